"""The services a handler may ask for by name: ``ledger: NamedDependency[Ledger]``.

Declared once on the application, so every controller, handler and provider below it (the web
pages too) declares what it uses instead of looking it up. A dependency is not a parameter: the
OpenAPI document does not show them.

Each provider returns a service built once by the composition root, so resolving one is a
synchronous call without arguments (no signature of its own to validate, no thread), and a
handler resolves only the names it declares: nothing measurable on a request
(``bench.request_cost``). Middleware and guards, which Litestar gives no dependencies, use ``Services.of``.
"""

from __future__ import annotations

from typing import TypeVar

from litestar.di import Provide

from api.state import Services

T = TypeVar("T")


def _constant(value: T) -> Provide:
    def provide() -> T:
        return value

    return Provide(provide, sync_to_thread=False)


SERVICE_NAMES = (
    "settings",
    "engine",
    "ledger",
    "access",
    "exports",
    "reports",
    "metrics",
    "audit",
    "jobs",
    "feed",
    "webhooks",
    "monitors",
    "batches",
    "governance",
    "economy",
    "entry_writes",
)
"""The fields of :class:`api.state.Services` a handler may take, each under its own name."""


def service_dependencies(services: Services) -> dict[str, Provide]:
    """The application's ``dependencies=``: each of :data:`SERVICE_NAMES`, from ``services``."""
    return {name: _constant(getattr(services, name)) for name in SERVICE_NAMES}
