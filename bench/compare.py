"""Two versions of the service under the same load, in alternating rounds: the working tree
against an earlier commit, so that a change is judged on one machine at one time.

    .venv/bin/python -m bench.compare --base REV [--head REV]
        [--scenario transfers|hot|balances|reads] [--rounds 3] [--seconds 8] [--clients 32]
        [--accounts 2000] [--base-python OTHER_VENV/bin/python]

``--head`` compares two commits instead. A commit's files are exported with ``git archive`` into a
temporary folder (no checkout) and its server runs from there on this virtualenv (the base's on
``--base-python``'s, to compare installs, e.g. one without uvloop). Each version serves a database
of its own, created and seeded alike by that version's own code (its migrations: a change of
schema, a trigger or an index is compared too), the two in alternating rounds. Prints each round
and the medians of requests per second, p99 latency, the server's CPU per request and
PostgreSQL's (its backends' CPU while the round runs, ``bench.pg_cpu``). ``reads`` is the suite's
balance reads while eight clients post transfers (its CPU per request then counts the writes' CPU
too). ``--sqlite`` serves a SQLite file instead, the embedded default (the suite measures it at 8
clients: ``--clients 8``); PostgreSQL's CPU is then not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import service_load
from bench.databases import fresh_database
from bench.pg_cpu import BackendCpu
from bench.service_load import Books, Load

ROOT = Path(__file__).resolve().parent.parent


def _export(revision: str, folder: Path) -> Path:
    """The files of ``revision``, unpacked under ``folder``."""
    folder.mkdir()
    archive = folder / "files.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision], stdout=out, check=True)
    target = folder / "files"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


@contextlib.contextmanager
def _source(path: Path | None) -> Iterator[None]:
    """Servers started inside import the code under ``path`` (None: this working tree)."""
    before = os.environ.get("PYTHONPATH")
    if path is not None:
        os.environ["PYTHONPATH"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


@dataclass(frozen=True)
class Round:
    load: Load
    pg_cpu_ms_per_request: float


_SEED = (
    "import asyncio, dataclasses, json, sys\n"
    "from bench.service_load import seed\n"
    "books = asyncio.run(seed(sys.argv[1], int(sys.argv[2])))\n"
    "print(json.dumps(dataclasses.asdict(books)))\n"
)


@contextlib.asynccontextmanager
async def _database(sqlite: Path | None) -> AsyncIterator[str]:
    if sqlite is not None:
        yield f"sqlite+aiosqlite:///{sqlite}"
        return
    async with fresh_database("cl_bench_compare") as url:
        yield url


@contextlib.asynccontextmanager
async def _seeded(
    source: Path | None, accounts: int, python: Path, sqlite: Path | None
) -> AsyncIterator[Books]:
    """A fresh database migrated and seeded by the code under ``source`` (None: this tree): a
    PostgreSQL one, or the SQLite file ``sqlite``."""
    async with _database(sqlite) as url:
        with _source(source):
            # From the version's folder: ``python -c`` puts the working directory first on the path.
            process = await asyncio.create_subprocess_exec(
                str(python), "-c", _SEED, url, str(accounts),
                stdout=asyncio.subprocess.PIPE, cwd=source or ROOT,
            )  # fmt: skip
        output, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"seeding {source or 'this tree'} failed")
        yield Books(**json.loads(output.decode().strip().splitlines()[-1]))


def _round(books: Books, ids: Path, args: argparse.Namespace, log: Path, *, command: Path) -> Round:
    url = books.url
    script, path, extra = {
        "transfers": ("transfers.lua", f"{books.base}/transfers", []),
        "hot": ("transfers.lua", f"{books.base}/transfers", [books.hot_account_id]),
        "balances": ("balances.lua", f"{books.base}/accounts", []),
        "reads": ("balances.lua", f"{books.base}/accounts", []),
    }[args.scenario]
    with service_load.serving(url, log, command) as server:
        cpu, children = server.cpu_s(), service_load.children_cpu_s()
        writers = None
        if args.scenario == "reads":
            writers = service_load.writers(server, books, ids, seconds=args.seconds)
        with contextlib.nullcontext(None) if args.sqlite else BackendCpu(url) as pg_cpu:
            process = service_load.wrk(
                server, script, path, [str(ids), books.token, *extra],
                clients=args.clients, seconds=args.seconds,
            )  # fmt: skip
            load = service_load.measured(server, process, cpu, children)
            if writers is not None:
                writers.communicate()
        requests = max(load.rate.per_s * args.seconds, 1)
        pg_ms = pg_cpu.seconds * 1000 / requests if pg_cpu is not None else float("nan")
        return Round(load, pg_ms)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    parser.add_argument("--head", help="the later commit (default: this working tree)")
    parser.add_argument(
        "--scenario", choices=("transfers", "hot", "balances", "reads"), default="transfers"
    )
    parser.add_argument(
        "--base-python", type=Path, help="the interpreter of the virtualenv that serves the base"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    parser.add_argument("--sqlite", action="store_true", help="serve a SQLite file instead")
    args = parser.parse_args()
    head_label = args.head or "working tree"
    base_command = (
        service_load.COMMAND
        if args.base_python is None
        else args.base_python.with_name(service_load.COMMAND.name)
    )
    results: dict[str, list[Round]] = {args.base: [], head_label: []}
    base_python = args.base_python or Path(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = _export(args.base, folder / "base")
        head = _export(args.head, folder / "head") if args.head else None
        async with (
            _seeded(
                base, args.accounts, base_python, folder / "base.db" if args.sqlite else None
            ) as base_books,
            _seeded(
                head,
                args.accounts,
                Path(sys.executable),
                folder / "head.db" if args.sqlite else None,
            ) as head_books,
        ):
            for number in range(args.rounds):
                for label, source, command, books in (
                    (args.base, base, base_command, base_books),
                    (head_label, head, service_load.COMMAND, head_books),
                ):
                    ids = folder / f"{label.replace('/', '_')}-accounts.txt"
                    ids.write_text("\n".join(books.account_ids) + "\n")
                    with _source(source):
                        log = folder / f"{number}.log"
                        found = _round(books, ids, args, log, command=command)
                    results[label].append(found)
                    sys.stdout.write(f"round {number + 1} {label:>14}: {_line([found])}\n")
    for label, rounds in results.items():
        sys.stdout.write(f"median {label:>15}: {_line(rounds)}\n")
    if args.json:
        found_json = {label: [asdict(r) for r in rounds] for label, rounds in results.items()}
        args.json.write_text(json.dumps(found_json, indent=2) + "\n")


def _line(rounds: list[Round]) -> str:
    rate = statistics.median(r.load.rate.per_s for r in rounds)
    p99 = statistics.median(r.load.rate.p99_ms or 0 for r in rounds)
    cpu = statistics.median(r.load.server_cpu_ms_per_request for r in rounds)
    pg = statistics.median(r.pg_cpu_ms_per_request for r in rounds)
    failures = sum(r.load.failures for r in rounds)
    return (
        f"{rate:7.0f}/s  p99 {p99:7.1f} ms  server CPU {cpu:5.2f} ms/request"
        f"  PostgreSQL CPU {pg:5.3f} ms/request  failed {failures}"
    )


if __name__ == "__main__":
    asyncio.run(main())
