"""Where the server's CPU goes under a load: py-spy samples ``commons-ledger serve`` while wrk
drives one scenario, and the functions that hold the most samples are printed. ``reads`` is the
suite's balance reads while eight clients post transfers.

    .venv/bin/python -m bench.profile [--scenario transfers|hot|batch|balances|reads] [--seconds 15]
        [--accounts 2000] [--raw FILE] [--sqlite]

Needs ``py-spy`` (``pip install py-spy``) and, for sampling another process, the right to
ptrace it (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import service_load
from bench.databases import fresh_database

PY_SPY = Path(sys.executable).with_name("py-spy")


def _summary(raw: Path, top: int) -> str:
    """Self and total samples per function from py-spy's collapsed-stack output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples"]
    lines += ["", "self time:"]
    lines += [f"  {n / samples:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total time (the frame and what it calls):"]
    lines += [f"  {n / samples:6.1%}  {frame}" for frame, n in total.most_common(top * 2)]
    return "\n".join(lines)


def _sample(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` for ``seconds`` into ``output`` (collapsed stacks)."""
    command = [
        str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--duration", str(seconds),
        "--rate", "200", "--output", str(output), "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        choices=("transfers", "hot", "batch", "balances", "reads"),
        default="transfers",
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--sqlite", action="store_true", help="the SQLite default, in a file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = (
            contextlib.nullcontext(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
            if args.sqlite
            else fresh_database("cl_bench_profile")
        )
        async with database as url:
            books = await service_load.seed(url, args.accounts)
            ids = folder / "accounts.txt"
            ids.write_text("\n".join(books.account_ids) + "\n")
            with service_load.serving(url, folder / "server.log") as server:
                raw = folder / "profile.txt"
                spy = _sample(server.pid, args.seconds, raw)
                cpu, children = server.cpu_s(), service_load.children_cpu_s()
                writers = None
                if args.scenario == "reads":
                    writers = service_load.writers(server, books, ids, seconds=args.seconds)
                script, path, extra = {
                    "transfers": ("transfers.lua", f"{books.base}/transfers", []),
                    "hot": ("transfers.lua", f"{books.base}/transfers", [books.hot_account_id]),
                    "batch": ("batch.lua", f"{books.base}/transfers:batch", ["100"]),
                    "balances": ("balances.lua", f"{books.base}/accounts", []),
                    "reads": ("balances.lua", f"{books.base}/accounts", []),
                }[args.scenario]
                load = service_load.wrk(
                    server, script, path, [str(ids), books.token, *extra],
                    clients=args.clients, seconds=args.seconds,
                )  # fmt: skip
                measured = service_load.measured(server, load, cpu, children)
                if writers is not None:
                    writers.communicate()
                spy.wait()
                sys.stdout.write(f"{args.scenario}: {measured}\n\n{_summary(raw, args.top)}\n")
                if args.raw:
                    args.raw.write_bytes(raw.read_bytes())


if __name__ == "__main__":
    asyncio.run(main())
