"""Where PostgreSQL's time per transfer goes: the service under wrk, then ``pg_stat_statements``
per transfer — calls, executor time, shared buffers and WAL of each statement, the statements
inside triggers included — with the WAL bytes per transfer from ``pg_current_wal_lsn()``.

    .venv/bin/python -m bench.pg_statements [--seconds 8] [--clients 32] [--accounts 10000]
        [--setting NAME=VALUE …]

The server must preload the extension and track nested statements
(``shared_preload_libraries=pg_stat_statements``, ``pg_stat_statements.track=all``), so the
bench starts a throw-away cluster of its own with them (``bench.clusters``), never the shared
one, and removes it after. Calls, buffers and WAL are counts, steady under load; executor times
are wall times and are not.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import asyncpg

from bench import service_load
from bench.clusters import throwaway_cluster
from bench.databases import dsn, fresh_database
from bench.pg_cpu import BackendCpu

_THIS_DATABASE = "dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
_TOP = f"""
SELECT calls, total_exec_time, wal_bytes, wal_records, shared_blks_hit + shared_blks_read AS blks,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements WHERE {_THIS_DATABASE} ORDER BY total_exec_time DESC LIMIT $1
"""  # noqa: S608
_TOPLEVEL_BUFFERS = (
    "SELECT sum(shared_blks_hit + shared_blks_read) FROM pg_stat_statements"  # noqa: S608
    f" WHERE toplevel AND {_THIS_DATABASE}"
)


STATEMENT_SETTINGS = ("shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all")


async def main(args: argparse.Namespace) -> None:
    with throwaway_cluster([*STATEMENT_SETTINGS, *args.setting]) as cluster:
        await _measure(args, cluster.url)


async def _measure(args: argparse.Namespace, cluster_url: str) -> None:
    async with fresh_database("cl_bench_statements", cluster_url) as url:
        books = await service_load.seed(url, args.accounts)
        folder = Path(tempfile.mkdtemp())
        ids = folder / "accounts.txt"
        ids.write_text("\n".join(books.account_ids) + "\n")
        admin = await asyncpg.connect(dsn(url))
        try:
            await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            with service_load.serving(url, folder / "server.log") as server:
                await admin.execute("SELECT pg_stat_statements_reset()")
                lsn = await admin.fetchval("SELECT pg_current_wal_lsn()")
                entries = await admin.fetchval("SELECT count(*) FROM entries")
                with BackendCpu(url) as cpu:
                    process = service_load.wrk(
                        server, "transfers.lua", f"{books.base}/transfers",
                        [str(ids), books.token], clients=args.clients, seconds=args.seconds,
                    )  # fmt: skip
                    load = service_load.measured(server, process, 0.0, 0.0)
                wal = await admin.fetchval("SELECT pg_current_wal_lsn() - $1::pg_lsn", lsn)
                n = max(await admin.fetchval("SELECT count(*) FROM entries") - entries, 1)
                buffers = await admin.fetchval(_TOPLEVEL_BUFFERS)
                rows = await admin.fetch(_TOP, args.top)
        finally:
            await admin.close()
    print(
        f"{n} transfers ({load.rate.per_s:.0f}/s): PostgreSQL CPU {cpu.seconds * 1000 / n:.3f} ms,"
        f" WAL {float(wal) / n:,.0f} B, shared buffers {float(buffers) / n:.1f} per transfer"
    )
    print(" calls   exec µs  buffers  WAL B  records  statement (per transfer)")
    for row in rows:
        print(
            f"{row['calls'] / n:6.2f} {row['total_exec_time'] * 1000 / n:9.1f}"
            f" {row['blks'] / n:8.1f} {float(row['wal_bytes']) / n:6.0f}"
            f" {row['wal_records'] / n:8.2f}  {row['query']}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=16)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="a server setting NAME=VALUE for the cluster, e.g. full_page_writes=off",
    )
    asyncio.run(main(parser.parse_args()))
