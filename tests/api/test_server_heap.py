"""The server process keeps what it built before serving out of the cycle collector's way
(``api.server.settled``): a full collection then walks only what serving made since, instead of
every module, route and model the process holds (about 100 ms with the event loop stopped, every
few seconds under load, before)."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from api.cli import serve
from api.server import settled
from api.settings import Settings
from api.web.settings import WebSettings


@pytest.fixture
def thawed() -> Iterator[None]:
    """Gives this test process its collector back (tests build many apps in one process)."""
    try:
        yield
    finally:
        gc.unfreeze()


def _tracked(value: object) -> bool:
    return any(candidate is value for candidate in gc.get_objects())


@pytest.mark.usefixtures("thawed")
def test_what_was_built_before_serving_is_left_to_reference_counting() -> None:
    built = {"routes": [object() for _ in range(100)]}
    assert _tracked(built)
    assert settled(built) is built
    assert gc.get_freeze_count() > 0
    assert not _tracked(built)
    made_later: list[object] = []
    assert _tracked(made_later)  # what serving makes is still collected


@pytest.mark.usefixtures("thawed")
def test_serve_runs_the_settled_app(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[object, int]] = []
    app = {"app": object()}
    monkeypatch.setattr(serve, "create_app", lambda *_: app)
    monkeypatch.setattr(
        uvicorn, "run", lambda what, **_: served.append((what, gc.get_freeze_count()))
    )
    arguments: Any = argparse.Namespace(host="127.0.0.1", port=0, workers=1)
    serve.run_service(Settings.from_env({}), WebSettings(), arguments)
    [(what, frozen)] = served
    assert what is app
    assert frozen > 0
    assert not _tracked(app)
