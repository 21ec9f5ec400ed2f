"""Transfers without HTTP, two versions in alternating rounds: the write path alone.

    .venv/bin/python -m bench.write_path --base REV [--head REV] [--rounds 3]
        [--transfers 800] [--writers 8] [--busy-ms 0] [--postgresql]

Each round runs in a process of its own on the version's files (``bench.compare`` exports a
commit with ``git archive``; ``--head`` defaults to this working tree): a fresh SQLite file (or
with ``--postgresql`` a fresh database on the bench's server, ``bench.databases``), 50 accounts,
then ``--writers`` tasks posting keyed transfers through group commit and the entry batches as
the service does (``ledger.books.group_commit``); it prints transfers per second and the
process's CPU per transfer. ``--busy-ms`` keeps the event loop busy beside the writers, in
slices of that many milliseconds of Python, as a server's other requests do: a write that needs
the loop at every statement waits for it each time (the CPU per transfer then counts the busy
loop's too). Prints each round, the medians, and the ratios of the medians (this working tree or
``--head`` over ``--base``); on SQLite also how long this process's write lock was held per
transaction (p50 and p99: the serial section, from taking the lock to letting it go after
COMMIT) and the mean size of group commit's groups.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from bench.compare import _export
from bench.databases import fresh_database
from ledger.books.batches import EntryBatches
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

ACCOUNTS = 50
ROOT = Path(__file__).resolve().parent.parent


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _one(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """One round in this process, on the code it imports."""
    if not args.postgresql:
        return await _on(f"sqlite+aiosqlite:///{folder / 'writes.db'}", args)
    async with fresh_database("cl_bench_write_path") as url:
        return await _on(url, args)


async def _on(url: str, args: argparse.Namespace) -> dict[str, float]:
    transfers, writers, busy_ms = args.transfers, args.writers, args.busy_ms
    engine = create_engine(url)
    await upgrade(engine)
    units = SqlUnitOfWorkFactory(engine)
    held = _time_write_lock(units)
    ledger = Ledger(units)
    sizes: list[int] = []
    groups = GroupCommit(EntryBatches(units), ledger.post_entry, observe=sizes.append)
    community = await ledger.create_community("writes", "Writes")
    accounts = [
        (await ledger.open_account(
            community.id, NewAccount(f"Liabilities:A{i}", f"A{i}", AccountType.LIABILITY, "HOURS")
        )).id
        for i in range(ACCOUNTS)
    ]  # fmt: skip
    rng, numbers = random.Random(1), iter(range(10**9))

    async def writer(count: int) -> None:
        for _ in range(count):
            debit, credit = rng.sample(accounts, 2)
            entry = NewEntry((PostingSpec(debit, 5), PostingSpec(credit, -5)), "bench")
            await groups.post_entry(
                community.id, entry, IdempotencyKey("bench", str(next(numbers)))
            )

    running = True

    async def busy() -> None:
        while running:
            until = time.perf_counter() + busy_ms / 1000
            while time.perf_counter() < until:
                pass
            await asyncio.sleep(0)

    await writer(20)  # warm: the compiled-statement cache, the pool
    held.clear()
    sizes.clear()
    burner = asyncio.create_task(busy()) if busy_ms else None
    started, cpu = time.perf_counter(), _cpu_s()
    await asyncio.gather(*(writer(transfers // writers) for _ in range(writers)))
    seconds, cpu_s = time.perf_counter() - started, _cpu_s() - cpu
    running = False
    if burner is not None:
        await burner
    await engine.dispose()
    done = transfers // writers * writers
    result = {"per_s": done / seconds, "cpu_ms": cpu_s * 1000 / done}
    if held:
        held.sort()
        result["lock_p50_ms"] = held[len(held) // 2] * 1000
        result["lock_p99_ms"] = held[min(len(held) - 1, len(held) * 99 // 100)] * 1000
    if sizes:
        result["group_mean"] = statistics.fmean(sizes)
    return result


class _TimedLock(asyncio.Lock):
    """An asyncio lock that records how long each holder kept it."""

    def __init__(self, held: list[float]) -> None:
        super().__init__()
        self._held, self._since = held, 0.0

    async def acquire(self) -> Literal[True]:
        await super().acquire()
        self._since = time.perf_counter()
        return True

    def release(self) -> None:
        self._held.append(time.perf_counter() - self._since)
        super().release()


def _time_write_lock(units: SqlUnitOfWorkFactory) -> list[float]:
    """The hold times of ``units``' in-process write lock (SQLite's), as they are recorded."""
    held: list[float] = []
    if getattr(units, "_write_lock", None) is not None:
        units._write_lock = _TimedLock(held)
    return held


def _round(source: Path | None, args: argparse.Namespace) -> dict[str, float]:
    """One round in a process of its own that imports the ledger from ``source`` (None: this
    working tree); this file runs as a script, so that a version without it can be measured
    (``bench`` then comes from ``source`` too: its ``compare`` must have ``_export``)."""
    environment = dict(os.environ, PYTHONPATH=str(source or ROOT))
    command = [
        sys.executable, __file__, "--one", "--transfers", str(args.transfers),
        "--writers", str(args.writers), "--busy-ms", str(args.busy_ms),
        *(["--postgresql"] if args.postgresql else []),
    ]  # fmt: skip
    output = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(output.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the earlier commit (any git revision)")
    parser.add_argument("--head", help="the later commit (default: this working tree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--transfers", type=int, default=800)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--busy-ms", type=float, default=0.0)
    parser.add_argument("--postgresql", action="store_true", help="a PostgreSQL database")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(_one(args, Path(tmp)))
        sys.stdout.write(json.dumps(result) + "\n")
        return
    if args.base is None:
        parser.error("--base is required")
    head_label = args.head or "working tree"
    results: dict[str, list[dict[str, float]]] = {args.base: [], head_label: []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = _export(args.base, Path(tmp) / "base")
        head = _export(args.head, Path(tmp) / "head") if args.head else None
        for number in range(args.rounds):
            for label, source in ((args.base, base), (head_label, head)):
                result = _round(source, args)
                results[label].append(result)
                sys.stdout.write(f"round {number + 1} {label:>14}: {_line([result])}\n")
    medians = {label: _medians(rounds) for label, rounds in results.items()}
    for label, rounds in results.items():
        sys.stdout.write(f"median {label:>15}: {_line(rounds)}\n")
    before, after = medians[args.base], medians[head_label]
    sys.stdout.write(
        f"{head_label} / {args.base}: rate ×{after[0] / before[0]:.2f}, "
        f"CPU per transfer ×{after[1] / before[1]:.2f}; load average "
        f"{', '.join(f'{v:.1f}' for v in load_before)} → "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}\n"
    )


def _medians(rounds: list[dict[str, float]]) -> tuple[float, float]:
    return (
        statistics.median(r["per_s"] for r in rounds),
        statistics.median(r["cpu_ms"] for r in rounds),
    )


def _line(rounds: list[dict[str, float]]) -> str:
    rate, cpu = _medians(rounds)
    line = f"{rate:7.0f} transfers/s  CPU {cpu:5.2f} ms/transfer"
    if all("lock_p99_ms" in r for r in rounds):
        p50 = statistics.median(r["lock_p50_ms"] for r in rounds)
        p99 = statistics.median(r["lock_p99_ms"] for r in rounds)
        line += f"  write lock held p50 {p50:5.1f} ms, p99 {p99:5.1f} ms"
    if all("group_mean" in r for r in rounds):
        line += f"  group {statistics.median(r['group_mean'] for r in rounds):4.1f}"
    return line


if __name__ == "__main__":
    main()
