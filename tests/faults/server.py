"""The real service as a child process: ``commons-ledger serve`` on a free loopback port.

The command is :data:`SERVE_COMMAND` plus ``--host``/``--port``, exactly what the container of
``compose.yaml`` runs (a test compares them). Its log goes to a file, so that a busy server never
blocks on a full pipe.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.faults.cluster import free_port

SERVE_COMMAND = ("commons-ledger", "serve")
START_TIMEOUT_S = 120.0
"""Generous: two servers starting at once on a loaded 2-core machine have taken over 60 s."""


def executable() -> str:
    """The installed console command, beside this interpreter (the project's virtualenv)."""
    beside = Path(sys.executable).parent / SERVE_COMMAND[0]
    found = str(beside) if beside.exists() else shutil.which(SERVE_COMMAND[0])
    assert found, "commons-ledger is not installed (pip install -e .)"
    return found


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()


def start_server(
    database_url: str, log: Path, extra_env: Mapping[str, str] | None = None, port: int = 0
) -> Server:
    """Starts the service and waits until ``/ready`` answers 200."""
    port = port or free_port()
    env = {
        **os.environ,
        "COMMONS_LEDGER_DATABASE_URL": database_url,
        "COMMONS_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "COMMONS_LEDGER_RATE_LIMIT_PER_S": "0",
        **(extra_env or {}),
    }
    command = [executable(), *SERVE_COMMAND[1:], "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/ready", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the server did not become ready: {log.read_text()[-2000:]}")
