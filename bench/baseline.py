"""The physical limit, measured in the same run: pgbench scripts on a raw-SQL schema of our
shape (``bench/baseline/``), binary COPY of postings, and a trial balance over 2M postings."""

from __future__ import annotations

import random
import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.databases import dsn

SCRIPTS = Path(__file__).parent / "baseline"


@dataclass(frozen=True)
class Rate:
    """Operations per second, with latency quantiles when they were measured."""

    per_s: float
    p50_ms: float | None = None
    p99_ms: float | None = None


async def prepare(url: str, accounts: int) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute((SCRIPTS / "schema.sql").read_text())
        await connection.execute(
            "INSERT INTO b_accounts (id) SELECT generate_series(1, $1::bigint)", accounts + 1
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def pgbench(url: str, script: str, *, clients: int, seconds: int, accounts: int) -> Rate:
    """Runs one script; throughput from pgbench, quantiles from its per-transaction log."""
    target = make_url(url)
    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder) / "log"
        command = [
            "pgbench", "-n", "-M", "prepared", "-h", target.host or "127.0.0.1",
            "-p", str(target.port or 5432), "-U", target.username or "postgres",
            "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds),
            "-D", f"accounts={accounts}", "-f", str(SCRIPTS / script),
            "-l", f"--log-prefix={prefix}", target.database or "postgres",
        ]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
        assert found, run.stdout
        latencies_us = [
            int(line.split()[2])
            for log in Path(folder).glob("log.*")
            for line in log.read_text().splitlines()
        ]
    quantiles = statistics.quantiles(latencies_us, n=100)
    return Rate(float(found.group(1)), quantiles[49] / 1000, quantiles[98] / 1000)


async def copy_postings(url: str, rows: int, accounts: int) -> Rate:
    """Binary COPY of ``rows`` postings into an indexed table, in rows per second."""
    rng = random.Random(7)
    records = [(i // 2 + 1, rng.randint(2, accounts + 1), 1 if i % 2 else -1) for i in range(rows)]
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute(
            "CREATE TABLE b_postings_bulk (entry_id bigint NOT NULL, account_id bigint NOT NULL,"
            " amount bigint NOT NULL);"
            "CREATE INDEX b_postings_bulk_account ON b_postings_bulk (account_id, entry_id)"
        )
        started = time.perf_counter()
        await connection.copy_records_to_table("b_postings_bulk", records=records)
        elapsed = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE b_postings_bulk")
    finally:
        await connection.close()
    return Rate(rows / elapsed)


async def trial_balance_ms(url: str, repeats: int = 3) -> float:
    """Median time of every account's balance summed from the bulk postings."""
    connection = await asyncpg.connect(dsn(url))
    try:
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            await connection.fetch(
                "SELECT account_id, sum(amount) FROM b_postings_bulk GROUP BY account_id"
            )
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return statistics.median(timings)
