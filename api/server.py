"""How ``commons-ledger serve`` runs the application: uvicorn with the fastest event loop and
HTTP parser that are installed.

uvloop and httptools are dependencies on CPython off Windows; where they are missing (another
platform, an install without them) uvicorn's pure-Python parts serve the same application, only
slower. Measured on the balance read (``python -m bench.compare``): see docs/performance.md,
"Balance reads".
"""

from __future__ import annotations

import gc
import importlib.util
from dataclasses import dataclass
from typing import Literal, TypeVar

T = TypeVar("T")

LoopName = Literal["uvloop", "asyncio"]
HttpName = Literal["httptools", "h11"]


@dataclass(frozen=True, slots=True)
class ServerChoice:
    loop: LoopName
    http: HttpName

    def describe(self) -> str:
        return f"{self.loop} event loop, {self.http} HTTP parser"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def server_choice() -> ServerChoice:
    """uvloop and httptools when importable, else asyncio and h11."""
    return ServerChoice(
        loop="uvloop" if _installed("uvloop") else "asyncio",
        http="httptools" if _installed("httptools") else "h11",
    )


def settled(app: T) -> T:
    """``app`` once what the process built to serve it is out of the cycle collector's way.

    Everything built before serving (the modules, the routes and their models, SQLAlchemy's
    metadata, the services) lives as long as the process, yet each full collection traversed it
    all: about 100 ms with the event loop stopped, every few seconds under load, which was the
    balance read's p99 (``docs/performance.md``, "Connections kept, the collector's pauses,
    guards in place"). ``gc.freeze`` moves those objects to the permanent generation, which no
    collection visits; refcounting still frees any of them that is dropped. Called by the
    server processes only, never by tests, which build many apps in one process."""
    gc.collect()
    gc.freeze()
    return app
