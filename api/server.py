"""How ``commons-ledger serve`` runs the application: uvicorn with the fastest event loop and
HTTP parser that are installed.

uvloop and httptools are dependencies on CPython off Windows; where they are missing (another
platform, an install without them) uvicorn's pure-Python parts serve the same application, only
slower. Measured on the balance read (``python -m bench.compare``): see docs/performance.md,
"Balance reads".
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

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
