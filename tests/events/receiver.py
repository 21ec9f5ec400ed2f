"""A real HTTP receiver on loopback, in a thread: it records what it gets and answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Answers to give, in order; 204 once they run out."""
    delay_s: float = 0.0
    delays_s: list[float] = field(default_factory=list)
    """Per request, in order, before answering (then ``delay_s``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 204

    def event_ids(self) -> list[str]:
        with self.lock:
            return [r.headers["Commons-Ledger-Event-Id"] for r in self.received]


@contextmanager
def receiving(wanted: Receiver | None = None) -> Iterator[Receiver]:
    receiver = wanted or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body))
                delay_s = receiver.delays_s.pop(0) if receiver.delays_s else receiver.delay_s
            if delay_s:
                time.sleep(delay_s)
            status = receiver.answer()
            self.send_response(status)
            if 300 <= status < 400:
                # Somewhere a follower would go: a request there would show up here.
                self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
