"""PostgreSQL's own CPU for one database's work: the user + system time of the server processes
(backends) connected to it, read from ``/proc`` while a load runs.

Wall-clock rates on a shared machine move with everyone else's load; the CPU a backend spends per
transfer moves far less (it still grows somewhat when caches are shared and cores are contended).
``pg_stat_statements`` would give the same per statement, but it must be preloaded at server
start, which these machines do not do; the backends' CPU needs nothing from the server.

The server must run on this machine. Backends are polled every :data:`POLL_S`: a backend that
exists when the window opens counts from its time then, one that appears later from zero (its
whole life: pgbench opens its connections at the start), and each counts up to its last poll — a
backend that exits (pgbench's, at the end) loses at most one poll interval of its time.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from types import TracebackType

import asyncpg

from bench.databases import dsn

POLL_S = 0.1
_TICKS = os.sysconf("SC_CLK_TCK")
_OURS = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime


class BackendCpu:
    """``with BackendCpu(url) as cpu: …`` then ``cpu.seconds``: the CPU the backends of the
    database at ``url`` used inside the block."""

    def __init__(self, url: str) -> None:
        self._dsn = dsn(url)
        self._stop = threading.Event()
        self._started = threading.Event()
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._thread = threading.Thread(target=lambda: asyncio.run(self._poll()), daemon=True)
        self.seconds = 0.0

    def __enter__(self) -> BackendCpu:
        self._thread.start()
        self._started.wait(timeout=10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        used = sum(self._last[pid] - self._first.get(pid, 0) for pid in self._last)
        self.seconds = used / _TICKS

    async def _poll(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            opening = True
            while True:
                stopping = self._stop.is_set()  # one more poll after the block ends
                for record in await connection.fetch(_OURS):
                    ticks = _cpu_ticks(record["pid"])
                    if ticks is None:
                        continue
                    if opening:
                        self._first[record["pid"]] = ticks
                    self._last[record["pid"]] = ticks
                if opening:
                    opening = False
                    self._started.set()
                if stopping:
                    return
                self._stop.wait(POLL_S)
        finally:
            self._started.set()
            await connection.close()
