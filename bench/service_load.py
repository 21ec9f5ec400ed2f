"""Commons Ledger under load: ``commons-ledger serve`` in its own process, driven by ``wrk``
(C, with the Lua scripts in ``bench/wrk/``), on a database seeded through the service."""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.baseline import Rate
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

WRK = Path(__file__).parent / "wrk"
COMMAND = Path(sys.executable).with_name("commons-ledger")
ADMIN_TOKEN = "bench-operator-token-0123456789"


@dataclass(frozen=True)
class Books:
    """A seeded community: its API base path, a write key, and its accounts."""

    base: str
    token: str
    account_ids: list[str]
    hot_account_id: str
    url: str
    """The database's."""


async def seed(url: str, accounts: int) -> Books:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger, access = Ledger(uow), Access(uow)
        community = await ledger.create_community("bench", "Bench")
        ids = [
            str(
                (
                    await ledger.open_account(
                        community.id,
                        NewAccount(f"Liabilities:A{i:06}", f"A{i}", AccountType.LIABILITY, "HOURS"),
                    )
                ).id
            )
            for i in range(accounts + 1)
        ]
        _, token = await access.issue_api_key(community.id, "bench", frozenset({Scope.WRITE}))
    finally:
        await engine.dispose()
    return Books("/api/v1/communities/bench", token, ids[1:], ids[0], url)


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_s(self) -> float:
        """User + system CPU time the server has used so far: its process and, with several
        workers, the worker processes it started (read while they run)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that just ended
            if int(stat.parent.name) == self.pid or int(fields[1]) == self.pid:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def settle(self, *, quiet_share: float = 0.05, within_s: float = 15.0) -> None:
        """Waits until the server is idle: wrk stops at its deadline with requests in flight
        (a batch request is 100 transfers), which the server still finishes; measured in the
        next scenario, they made its first second slow (the steady random transfers' p99 was
        ×12.8 the baseline's, pgbench waiting for its own last transactions). Idle: less than
        ``quiet_share`` of a core used over a quarter of a second."""
        deadline = time.monotonic() + within_s
        before = self.cpu_s()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_s()
            if now - before < 0.25 * quiet_share:
                return
            before = now

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path, *, ready_path: str, port: int, what: str
) -> Iterator[Server]:
    """``command`` (a server listening on ``port``) until the block ends, once ``ready_path``
    answers 200 (within 60 s); SIGTERM at the end. Its stderr goes to ``log``."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,  # one JSON line per request: not what we measure
            stderr=output,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}{ready_path}", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not start; see {log}")
                time.sleep(0.2)
            yield Server(url, process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def serving(
    database_url: str, log: Path, command: Path = COMMAND, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``command serve`` on a free port (``command``: another virtualenv's, to compare
    installs), until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "COMMONS_LEDGER_DATABASE_URL": database_url,
        "COMMONS_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "COMMONS_LEDGER_RATE_LIMIT_PER_S": "0",
        **(extra_env or {}),
    }
    serve = [str(command), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(serve, env, log, ready_path="/ready", port=port, what="the service") as server:
        yield server


@dataclass(frozen=True)
class Load:
    rate: Rate
    failures: int
    server_cpu_ms_per_request: float
    load_generator_cpu_s: float
    """CPU the load generators used while this was measured (all wrk processes that ended)."""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    server: Server, script: str, path: str, args: list[str], *, clients: int, seconds: int
) -> subprocess.Popen[str]:
    command = [
        "wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s",
        "--latency", "-s", str(WRK / script), f"{server.url}{path}", "--", *args,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def writers(
    server: Server, books: Books, ids: Path, *, seconds: int, clients: int = 8
) -> subprocess.Popen[str]:
    """The concurrent writes of the balance-read scenario: ``clients`` posting random transfers
    (the caller waits for them; their CPU is counted with the readers')."""
    return wrk(
        server, "transfers.lua", f"{books.base}/transfers", [str(ids), books.token],
        clients=clients, seconds=seconds,
    )  # fmt: skip


def children_cpu_s() -> float:
    """CPU used by this process's ended children (the load generators once they exit)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(
    server: Server, process: subprocess.Popen[str], cpu_before: float, children_before: float
) -> Load:
    """Waits for one wrk process and reads its figures, with the server's CPU per request."""
    output, _ = process.communicate()
    wrk_cpu = children_cpu_s() - children_before
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    assert found and total and "99%" in output, output
    quantiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    failures = int(errors.group(1)) if errors else 0
    if socket_errors:
        failures += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    cpu_ms = (server.cpu_s() - cpu_before) * 1000 / max(int(total.group(1)), 1)
    rate = Rate(float(found.group(1)), _ms(quantiles["50"]), _ms(quantiles["99"]))
    return Load(rate, failures, cpu_ms, wrk_cpu)
