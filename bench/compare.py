"""Two versions of the service under the same load, in alternating rounds: the working tree
against an earlier commit, so that a change is judged on one machine at one time.

    .venv/bin/python -m bench.compare --base REV [--head REV]
        [--scenario transfers|hot|balances|reads] [--rounds 3] [--seconds 8] [--clients 32]
        [--accounts 2000] [--base-python OTHER_VENV/bin/python] [--sqlite]

``--head`` compares two commits instead. A commit's files are exported with ``git archive`` into a
temporary folder (no checkout) and its server runs from there on this virtualenv (the base's on
``--base-python``'s, to compare installs, e.g. one without uvloop); both versions serve the same
freshly seeded database in turn (the schema must not differ): a PostgreSQL one, or with
``--sqlite`` a SQLite file, the embedded default (the suite measures it at 8 clients). Prints
each round and the medians of requests per second, p99 latency and the server's CPU per
request. ``reads`` is the suite's balance reads while eight clients post transfers (its CPU per
request then counts the writes' CPU too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bench import service_load
from bench.databases import fresh_database
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


@contextlib.asynccontextmanager
async def _database(args: argparse.Namespace, folder: Path) -> AsyncIterator[str]:
    if args.sqlite:
        yield f"sqlite+aiosqlite:///{folder / 'compare.db'}"
        return
    async with fresh_database("cl_bench_compare") as url:
        yield url


def _round(
    url: str, books: Books, ids: Path, args: argparse.Namespace, log: Path, *, command: Path
) -> Load:
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
        process = service_load.wrk(
            server, script, path, [str(ids), books.token, *extra],
            clients=args.clients, seconds=args.seconds,
        )  # fmt: skip
        load = service_load.measured(server, process, cpu, children)
        if writers is not None:
            writers.communicate()
        return load


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
    parser.add_argument("--sqlite", action="store_true", help="serve a SQLite file instead")
    args = parser.parse_args()
    head_label = args.head or "working tree"
    base_command = (
        service_load.COMMAND
        if args.base_python is None
        else args.base_python.with_name(service_load.COMMAND.name)
    )
    results: dict[str, list[Load]] = {args.base: [], head_label: []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = _export(args.base, folder / "base")
        head = _export(args.head, folder / "head") if args.head else None
        async with _database(args, folder) as url:
            books = await service_load.seed(url, args.accounts)
            ids = folder / "accounts.txt"
            ids.write_text("\n".join(books.account_ids) + "\n")
            for number in range(args.rounds):
                for label, source, command in (
                    (args.base, base, base_command),
                    (head_label, head, service_load.COMMAND),
                ):
                    with _source(source):
                        log = folder / f"{number}.log"
                        load = _round(url, books, ids, args, log, command=command)
                    results[label].append(load)
                    sys.stdout.write(f"round {number + 1} {label:>14}: {_line([load])}\n")
    for label, loads in results.items():
        sys.stdout.write(f"median {label:>15}: {_line(loads)}\n")


def _line(loads: list[Load]) -> str:
    rate = statistics.median(load.rate.per_s for load in loads)
    p99 = statistics.median(load.rate.p99_ms or 0 for load in loads)
    cpu = statistics.median(load.server_cpu_ms_per_request for load in loads)
    failures = sum(load.failures for load in loads)
    return f"{rate:7.0f}/s  p99 {p99:7.1f} ms  server CPU {cpu:5.2f} ms/request  failed {failures}"


if __name__ == "__main__":
    asyncio.run(main())
