"""How operations are named and grouped in the OpenAPI document — the names a generated client
shows its developer (``client.confirm_exchange(...)``, ``api.confirmExchange``).

**operationId** — the route handler's ``name=`` if it has one, else its function's name, in
lowerCamelCase: ``async def confirm_exchange`` is ``confirmExchange``. Name a handler for what
it does to which resource (``list_accounts``, ``read_account``, ``create_transfer``,
``approve_disbursement``), never for its path or its form (``as_json``): a factory that makes
several handlers from one function gives each its ``name=``. Litestar refuses two operations with
one id when the application is built, and ``tests/api/test_openapi.py`` holds every id to
:data:`OPERATION_ID_PATTERN`, so a new route cannot drift from the rule.

**tags** — one per concept, the same word as the concept's module under ``api/http`` (``accounts``,
``exchanges``, ``federation``…), declared on the controller (``tags = ("monitors",)``) or the
handler; every tag used must be described in :data:`TAGS` (the test checks).
"""

from __future__ import annotations

import re

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Tag
from litestar.types import Method
from litestar.types.internal_types import PathParameterDefinition

OPERATION_ID_LENGTH_MAX = 32
OPERATION_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*")
"""lowerCamelCase words: what generators turn into ``snake_case`` or keep as they are."""


def operation_id(
    handler: HTTPRouteHandler,
    _method: Method,
    _path: list[str | PathParameterDefinition],
) -> str:
    """The operationId of ``handler`` (see the module): ``confirm_exchange`` → ``confirmExchange``.

    The path plays no part, so moving a route keeps the name clients call it by."""
    first, *rest = (handler.name or handler.handler_name).split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


TAGS: dict[str, str] = {
    "system": "Liveness, readiness and metrics for operators (no token needed)",
    "communities": "Communities: the tenants, one time-bank or cooperative each",
    "members": "Members of a community, each with an HOURS account",
    "access": "API keys and member tokens (the secret is shown once)",
    "books": "Commodities (units of account) and the trial balance",
    "accounts": "The chart of accounts: accounts, balances, statements, groups, templates",
    "entries": "Journal entries: transfers, general entries, batches, two-phase completion",
    "exchanges": "Time-bank exchanges: a service given, confirmed by its receiver",
    "governance": "Roles, budgets and the emergency fund",
    "funds": "Designated funds: income and spending tracked per fund",
    "barters": "Barters: goods and hours swapped in one balanced entry",
    "schedules": "Recurring transfers (dues, allowances) and their occurrences",
    "reports": "The sustainability report, in JSON, HTML, PDF, XLSX and CSV, and its snapshots",
    "exports": "The whole journal for plain-text accounting tools and spreadsheets",
    "audit": "The tamper-evident audit chain",
    "jobs": "Runs of the periodic jobs",
    "events": "The event feed: what happened in the books, in order",
    "webhooks": "Webhooks: events pushed to another tool, signed",
    "monitors": "Balance monitors: an event when a balance crosses a threshold",
    "federation": "Links with other communities and transfers across them, reconciled",
    "peers": "Node to node: signed messages between installs (no bearer tokens)",
}
"""Every tag with its description, in the order a reader meets them (the document's ``tags``)."""


def tags() -> list[Tag]:
    return [Tag(name=name, description=description) for name, description in TAGS.items()]
