"""``commons-ledger serve`` with several worker processes: one port, shared metrics, one
member-page key, and every worker serving the API."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from api.metrics import MULTIPROCESS_DIR_VARIABLE
from api.settings import Settings
from api.web.settings import WebSettings
from api.workers import WEB_SECRET_VARIABLE, several_workers
from tests.faults.server import start_server

WORKERS = 2


def test_one_worker_is_the_default() -> None:
    assert Settings.from_env({}).workers == 1
    assert Settings.from_env({"COMMONS_LEDGER_WORKERS": "3"}).workers == 3


def test_workers_inherit_one_web_key_and_one_metrics_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(WEB_SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(MULTIPROCESS_DIR_VARIABLE, raising=False)
    with several_workers(WebSettings()):
        secret = os.environ[WEB_SECRET_VARIABLE]
        folder = Path(os.environ[MULTIPROCESS_DIR_VARIABLE])
        assert len(secret) >= 32
        assert folder.is_dir()
    assert WEB_SECRET_VARIABLE not in os.environ
    assert MULTIPROCESS_DIR_VARIABLE not in os.environ
    assert not folder.exists()


def test_a_configured_web_key_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEB_SECRET_VARIABLE, "k" * 40)
    with several_workers(WebSettings(csrf_secret="k" * 40)):
        assert os.environ[WEB_SECRET_VARIABLE] == "k" * 40


def _health_requests_counted(metrics: str) -> float:
    pattern = r'commons_ledger_http_requests_total\{[^}]*route="/health"[^}]*status="200"\} (\S+)'
    found = re.search(pattern, metrics)
    return 0.0 if found is None else float(found.group(1))


def test_several_workers_serve_and_count_every_request(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    server = start_server(url, tmp_path / "server.log", {"COMMONS_LEDGER_WORKERS": str(WORKERS)})
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            before = _health_requests_counted(client.get("/metrics").text)
            for _ in range(40):  # fresh connections: the kernel spreads them over the workers
                assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
            # Whichever worker answers, it counts the requests all workers served.
            for _ in range(4):
                metrics = client.get("/metrics", headers={"Connection": "close"}).text
                assert _health_requests_counted(metrics) - before == 40
        workers = subprocess.run(
            ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(workers) >= WORKERS
    finally:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        finally:
            server.stop()
    assert f"{WORKERS} workers" in (tmp_path / "server.log").read_text()
