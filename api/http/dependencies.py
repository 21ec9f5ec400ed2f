"""The services a handler may ask for by name: ``ledger: NamedDependency[Ledger]``.

Declared on the application (:func:`service_dependencies`) and again, with the community, on the
router of ``/communities/{slug}`` (:func:`community_dependencies`), so every controller, handler
and provider declares what it uses instead of looking it up. A dependency is not a parameter: the
OpenAPI document does not show them. Middleware and guards, which Litestar gives no
dependencies, use ``Services.of``.

What a resolution costs: each provider returns a service the composition root built once, by a
synchronous call (no thread). Litestar resolves the independent dependencies of a request
together in a task group, which costs more than the rest of the dependency work (about 130 µs
of CPU a request, litestar#4563). Under a community every service provider therefore takes the
``community`` it does not use, which puts it after the community: a handler with the community
and one service resolves them in line, for a few µs (``bench.request_cost`` reads a balance so).
A handler asking for two independent services still pays the task group: assigning and ending
role terms, the event feed, creating a community, and the web pages (the viewer and its services).
"""

from __future__ import annotations

from typing import TypeVar

from litestar.di import NamedDependency, Provide

from api.http.common.auth import provide_community
from api.state import Services

T = TypeVar("T")

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
    "federation",
    "remote_transfers",
    "peer_reconciliation",
)
"""The fields of :class:`api.state.Services` a handler may take, each under its own name."""


def _constant(value: T) -> Provide:
    def provide() -> T:
        return value

    return Provide(provide, sync_to_thread=False)


def _after_community(value: T) -> Provide:
    # ``object``: the community is only waited for, so it is not validated again.
    def provide(community: NamedDependency[object]) -> T:
        return value

    return Provide(provide, sync_to_thread=False)


def service_dependencies(services: Services) -> dict[str, Provide]:
    """The application's ``dependencies=``: each of :data:`SERVICE_NAMES`, from ``services``."""
    return {name: _constant(getattr(services, name)) for name in SERVICE_NAMES}


def community_dependencies(services: Services) -> dict[str, Provide]:
    """The ``dependencies=`` of the router of ``/communities/{slug}``: the community of the path
    and each of :data:`SERVICE_NAMES`, resolved after it."""
    return {
        "community": Provide(provide_community),
        **{name: _after_community(getattr(services, name)) for name in SERVICE_NAMES},
    }
