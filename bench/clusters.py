"""Throw-away PostgreSQL clusters, to stop and start at will: a primary, and hot standbys of it.

The benches and the fault tests start their own (``tests/faults/cluster.py`` adds the tests'
skip-or-fail when the binaries are missing). The shared server at 127.0.0.1:5432 is never
touched: ``initdb`` makes a new cluster in a temporary directory, ``pg_ctl`` runs it on a free
loopback port with its socket in that directory, and everything is removed afterwards. As root,
the binaries run as the ``postgres`` OS user (the server refuses to run as root). Every step has a
timeout.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("COMMONS_LEDGER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
STEP_TIMEOUT_S = 60


def missing() -> str | None:
    """Why no throw-away cluster can start here, or None when one can."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {PG_BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs runuser"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    directory: Path
    port: int
    _as_postgres: list[str]
    settings: Sequence[str] = ()
    """More server settings, ``NAME=VALUE`` each, given at every start."""

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *arguments: str) -> None:
        command = [*self._as_postgres, str(PG_BIN / arguments[0]), *arguments[1:]]
        subprocess.run(command, check=True, timeout=STEP_TIMEOUT_S, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c max_connections=40"
        )
        options += "".join(f" -c {setting}" for setting in self.settings)
        log = str(self.directory / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "30", "start"
        )

    def stop_immediately(self) -> None:
        """Like a power cut for the database: no checkpoint, clients cut off; it recovers from
        its write-ahead log on the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def promote(self) -> None:
        """A standby becomes a primary of its own (a failover): it stops replaying WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "promote")

    def running(self) -> bool:
        command = [*self._as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"]
        done = subprocess.run(command, timeout=STEP_TIMEOUT_S, capture_output=True, check=False)
        return done.returncode == 0


def _runner() -> Sequence[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def _directory(as_postgres: Sequence[str]) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="cl-cluster-"))
    try:
        if as_postgres:
            postgres = pwd.getpwnam("postgres")
            os.chown(directory, postgres.pw_uid, postgres.pw_gid)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def standby_of(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby streaming from ``primary``: ``pg_basebackup -R`` (a base backup that
    writes the standby's connection to the primary) into a directory of its own, started on
    another loopback port; removed afterwards. initdb's defaults allow it: ``wal_level =
    replica``, ten WAL senders, and trust for replication connections from loopback."""
    with _directory(primary._as_postgres) as directory:
        standby = Cluster(directory, free_port(), primary._as_postgres)
        standby._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        standby.start()
        try:
            yield standby
        finally:
            if standby.running():
                standby.stop_immediately()


@contextmanager
def throwaway_cluster(settings: Sequence[str] = ()) -> Iterator[Cluster]:
    """A new, running cluster (trust authentication, user ``postgres``; ``settings``, each
    ``NAME=VALUE``, on its command line), removed afterwards."""
    if reason := missing():
        raise RuntimeError(reason)
    as_postgres = list(_runner())
    with _directory(as_postgres) as directory:
        cluster = Cluster(directory, free_port(), as_postgres, tuple(settings))
        cluster._run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop_immediately()
