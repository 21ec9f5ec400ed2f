"""Who may do what, as a grid: every kind of caller × every resource, on both engines.

401 without a valid token; 403 for a valid token lacking the scope (or a member token where
members may not act); 404 for anything of another member or another community, exactly as if it
did not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, bearer, make_tenant

Client = AsyncTestClient[Litestar]
CALLERS = ("none", "operator", "admin", "treasurer", "write", "read", "ann", "other")


@dataclass
class World:
    tenant: Tenant
    headers: dict[str, dict[str, str]]
    ann_entry: str
    books_entry: str
    exchange: str
    governance: dict[str, str]


async def _world(client: Client) -> World:
    tenant, other = await make_tenant(client), await make_tenant(client)
    headers = {
        "none": {},
        "operator": ADMIN,
        "treasurer": tenant.treasurer,
        "ann": tenant.ann_token,
        "other": other.treasurer,
    }
    for scope in ("admin", "write", "read"):
        key = await client.post(f"{tenant.base}/api-keys", json={"scopes": [scope]}, headers=ADMIN)
        headers[scope] = bearer(key.json()["token"])
    treasurer = tenant.treasurer
    await client.post(
        f"{tenant.base}/commodities", json={"code": "EUR", "name": "Euro", "scale": 2},
        headers=treasurer,
    )  # fmt: skip
    cash, dues, fund = [
        (
            await client.post(
                f"{tenant.base}/accounts",
                json={"code": code, "name": code, "type": kind, "commodity": "EUR"},
                headers=treasurer,
            )
        ).json()["id"]
        for code, kind in (
            ("Assets:Cash", "asset"),
            ("Income:Dues", "income"),
            ("Assets:EmergencyFund", "asset"),
        )
    ]

    async def transfer(debit: object, credit: object) -> str:
        body = {
            "debit_account_id": debit,
            "credit_account_id": credit,
            "amount": 10,
            "description": "Help",
        }
        response = await client.post(f"{tenant.base}/transfers", json=body, headers=treasurer)
        assert response.status_code == 201, response.text
        entry_id: str = response.json()["id"]
        return entry_id

    exchange = await client.post(
        f"{tenant.base}/exchanges",
        json={
            "provider_member_id": tenant.bob["id"],
            "receiver_member_id": tenant.ann["id"],
            "minutes": 30,
            "description": "Soup",
        },
        headers=treasurer,
    )
    return World(
        tenant=tenant,
        headers=headers,
        ann_entry=await transfer(tenant.bob["hours_account_id"], tenant.ann["hours_account_id"]),
        books_entry=await transfer(cash, dues),
        exchange=exchange.json()["id"],
        governance=await _governance(client, tenant, fund=fund, payee=cash),
    )


async def _governance(client: Client, tenant: Tenant, *, fund: str, payee: str) -> dict[str, str]:
    """A configured emergency fund holding money, a pending request on it, and a draft budget."""
    base, treasurer = tenant.base, tenant.treasurer
    settings = await client.put(f"{base}/governance", json={"fund_account_id": fund}, headers=ADMIN)
    assert settings.status_code == 200, settings.text
    body = {
        "debit_account_id": fund,
        "credit_account_id": payee,
        "amount": 1_000_000,
        "description": "Into the fund",
    }
    assert (await client.post(f"{base}/transfers", json=body, headers=treasurer)).status_code == 201
    ask = {"payee_account_id": payee, "amount": 1, "reason": "Tools"}
    request = await client.post(f"{base}/emergency-fund/disbursements", json=ask, headers=treasurer)
    assert request.status_code == 201, request.text
    budget = await client.post(f"{base}/budgets", json=_budget(), headers=treasurer)
    assert budget.status_code == 201, budget.text
    return {"payee": payee, "disbursement": request.json()["id"], "budget": budget.json()["id"]}


def _budget() -> dict[str, object]:
    return {
        "name": "B",
        "period": "2026-Q4",
        "lines": [{"account_group": "Assets", "commodity": "EUR", "amount": 1}],
    }


def _expect(ok: int, *, member: int, denied: tuple[str, ...] = ()) -> dict[str, int]:
    """The status for each caller: ``ok`` for those allowed, 403 for ``denied`` keys, ``member``
    for Ann's token, 404 for another community's key and 401 without a token."""
    grid = dict.fromkeys(CALLERS, ok)
    grid.update(dict.fromkeys(denied, 403))
    grid.update({"none": 401, "ann": member, "other": 404})
    return grid


READS: list[tuple[str, Callable[[World], str], dict[str, int]]] = [
    ("community", lambda w: "", _expect(200, member=200)),
    ("members", lambda w: "/members", _expect(200, member=200)),
    ("own member", lambda w: f"/members/{w.tenant.ann['id']}", _expect(200, member=200)),
    ("other member", lambda w: f"/members/{w.tenant.bob['id']}", _expect(200, member=404)),
    ("accounts", lambda w: "/accounts", _expect(200, member=200)),
    (
        "own account",
        lambda w: f"/accounts/{w.tenant.ann['hours_account_id']}/balance",
        _expect(200, member=200),
    ),
    (
        "other's account",
        lambda w: f"/accounts/{w.tenant.bob['hours_account_id']}",
        _expect(200, member=404),
    ),
    (
        "other's statement",
        lambda w: f"/accounts/{w.tenant.bob['hours_account_id']}/postings",
        _expect(200, member=404),
    ),
    ("entries", lambda w: "/entries", _expect(200, member=200)),
    ("own entry", lambda w: f"/entries/{w.ann_entry}", _expect(200, member=200)),
    ("books entry", lambda w: f"/entries/{w.books_entry}", _expect(200, member=404)),
    ("commodities", lambda w: "/commodities", _expect(200, member=200)),
    ("trial balance", lambda w: "/trial-balance", _expect(200, member=403)),
    ("exchanges", lambda w: "/exchanges", _expect(200, member=200)),
    ("own exchange", lambda w: f"/exchanges/{w.exchange}", _expect(200, member=200)),
    # Journal exports: every member's entries, so no member token.
    ("beancount export", lambda w: "/exports/journal.beancount", _expect(200, member=403)),
    ("hledger export", lambda w: "/exports/journal.hledger", _expect(200, member=403)),
    ("csv export", lambda w: "/exports/journal.csv", _expect(200, member=403)),
    # The report names members (burnout and support watch): API keys only.
    (
        "sustainability report",
        lambda w: "/reports/sustainability?from=2026-01-01&to=2026-03-31",
        _expect(200, member=403),
    ),
    (
        "sustainability page",
        lambda w: "/reports/sustainability.html?from=2026-01-01&to=2026-03-31",
        _expect(200, member=403),
    ),
    (
        "sustainability csv",
        lambda w: "/reports/sustainability/time-bank.csv?from=2026-01-01&to=2026-03-31",
        _expect(200, member=403),
    ),
    ("report snapshots", lambda w: "/reports/snapshots", _expect(200, member=403)),
    ("audit trail", lambda w: "/audit", _expect(200, member=403, denied=("write", "read"))),
    ("job runs", lambda w: "/jobs", _expect(200, member=403, denied=("write", "read"))),
    # The feed: a member token sees only events about itself (filtered, so 200).
    ("event feed", lambda w: "/events", _expect(200, member=200)),
    ("webhooks", lambda w: "/webhooks", _expect(200, member=403, denied=("write", "read"))),
    ("monitors", lambda w: "/monitors", _expect(200, member=403, denied=("write", "read"))),
    # Governance: community-level, so members read it too.
    ("role terms", lambda w: "/roles", _expect(200, member=200)),
    ("governance settings", lambda w: "/governance", _expect(200, member=200)),
    ("budgets", lambda w: "/budgets", _expect(200, member=200)),
    ("budget", lambda w: f"/budgets/{w.governance['budget']}", _expect(200, member=200)),
    (
        "budget vs actual",
        lambda w: f"/budgets/{w.governance['budget']}/actual",
        _expect(200, member=200),
    ),
    ("emergency fund", lambda w: "/emergency-fund", _expect(200, member=200)),
    ("disbursements", lambda w: "/emergency-fund/disbursements", _expect(200, member=200)),
    (
        "disbursement",
        lambda w: f"/emergency-fund/disbursements/{w.governance['disbursement']}",
        _expect(200, member=200),
    ),
]


async def test_reads(client: Client) -> None:
    world = await _world(client)
    wrong: list[str] = []
    for name, path, grid in READS:
        for caller, expected in grid.items():
            response = await client.get(
                world.tenant.base + path(world), headers=world.headers[caller]
            )
            if response.status_code != expected:
                wrong.append(f"{name} as {caller}: {response.status_code}, expected {expected}")
    assert wrong == []


def _writes(world: World) -> list[tuple[str, str, Callable[[], dict[str, object]], dict[str, int]]]:
    tenant = world.tenant

    def transfer() -> dict[str, object]:
        return {
            "debit_account_id": tenant.bob["hours_account_id"],
            "credit_account_id": tenant.ann["hours_account_id"],
            "amount": 1,
            "description": "Help",
        }

    def unique(prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:8]}"

    writers_and_readers = ("write", "read")
    years = iter(range(2000, 2100))  # a snapshot per period: each success needs its own
    return [
        ("transfer", "/transfers", transfer, _expect(201, member=403, denied=("read",))),
        (
            "transfer batch",
            "/transfers:batch",
            lambda: {"items": [{**transfer(), "idempotency_key": unique("k")}]},
            _expect(200, member=403, denied=("read",)),
        ),
        (
            "member",
            "/members",
            lambda: {"name": unique("M")},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            "account",
            "/accounts",
            lambda: {"code": unique("a:"), "name": "A", "type": "asset", "commodity": "HOURS"},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            "commodity",
            "/commodities",
            lambda: {"code": unique("G").upper(), "name": "Goods", "scale": 0},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            # A member issues tokens for themselves only; another member is not theirs to see.
            "member token",
            f"/members/{tenant.bob['id']}/tokens",
            dict,
            _expect(201, member=404, denied=writers_and_readers),
        ),
        (
            "own member token",
            f"/members/{tenant.ann['id']}/tokens",
            dict,
            _expect(201, member=201, denied=writers_and_readers),
        ),
        (
            "api key",
            "/api-keys",
            lambda: {"scopes": ["read"]},
            _expect(201, member=403, denied=("treasurer", *writers_and_readers)),
        ),
        (
            "report snapshot",
            "/reports/snapshots",
            lambda: {"period": str(next(years))},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            "webhook",
            "/webhooks",
            # A public address literal: the guard needs no DNS for it.
            lambda: {"url": "http://93.184.216.34/hook"},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            "monitor",
            "/monitors",
            lambda: {
                "account_id": tenant.ann["hours_account_id"],
                "direction": "below",
                "threshold": -60,
            },
            _expect(201, member=403, denied=writers_and_readers),
        ),
        # Roles are handed on by an admin or a treasurer in office, not by a treasurer key.
        (
            "role term",
            "/roles",
            lambda: {"member_id": tenant.bob["id"], "role": "steward"},
            _expect(201, member=403, denied=("treasurer", *writers_and_readers)),
        ),
        ("budget", "/budgets", _budget, _expect(201, member=403, denied=writers_and_readers)),
        # Consents and approvals are a current steward's own: no key and no other member.
        (
            "budget consent",
            f"/budgets/{world.governance['budget']}/consents",
            dict,
            _expect(403, member=403),
        ),
        (
            "disbursement request",
            "/emergency-fund/disbursements",
            lambda: {"payee_account_id": world.governance["payee"], "amount": 1, "reason": "x"},
            _expect(201, member=403, denied=writers_and_readers),
        ),
        (
            "disbursement approval",
            f"/emergency-fund/disbursements/{world.governance['disbursement']}/approve",
            dict,
            _expect(403, member=403),
        ),
        (
            "disbursement rejection",
            f"/emergency-fund/disbursements/{world.governance['disbursement']}/reject",
            dict,
            _expect(403, member=403),
        ),
    ]


async def test_writes(client: Client) -> None:
    world = await _world(client)
    wrong: list[str] = []
    for name, path, body, grid in _writes(world):
        for caller, expected in grid.items():
            response = await client.post(
                world.tenant.base + path, json=body(), headers=world.headers[caller]
            )
            if response.status_code != expected:
                wrong.append(f"{name} as {caller}: {response.status_code}, expected {expected}")
    assert wrong == []


# The member page (api/web) -------------------------------------------------------------------


async def test_the_member_page_and_the_api_do_not_share_credentials(client: Client) -> None:
    """A bearer token of any caller opens no member page (they need a session cookie), and a
    member page session opens nothing in the JSON API (it needs a bearer token)."""
    from tests.web.conftest import sign_in  # noqa: PLC0415 - keeps this block self-contained

    world = await _world(client)
    for caller, headers in world.headers.items():
        for path in ("/exchanges", "/community"):
            response = await client.get(path, headers=headers, follow_redirects=False)
            assert (response.status_code, response.headers.get("location")) == (
                303,
                "/sign-in",
            ), (caller, path)
    await sign_in(client, world.tenant.ann_token["Authorization"].removeprefix("Bearer "))
    assert (await client.get("/exchanges")).status_code == 200
    api = await client.get(f"{world.tenant.base}/accounts")
    assert api.status_code == 401


# The cooperative economy: charts, funds, barters, schedules -----------------------------------


@dataclass
class Economy:
    world: World
    codes: dict[str, str]
    fund: str
    own_barter: str
    others_barter: str
    schedule: str


def _barter_body(first: object, second: object) -> dict[str, object]:
    return {
        "sides": [
            {
                "member_id": first,
                "gives": [{"commodity": "HOURS", "quantity": 5, "description": "h"}],
            },
            {
                "member_id": second,
                "gives": [{"commodity": "EGGS", "quantity": 1, "description": "e"}],
            },
        ]
    }


def _schedule_body(codes: dict[str, str]) -> dict[str, object]:
    return {
        "description": "Dues",
        "debit_account_id": codes["Assets:Bank"],
        "credit_account_id": codes["Income:Dues"],
        "amount": 100,
        "frequency": "monthly",
        "start_date": "2026-01-01",
    }


async def _economy(client: Client) -> Economy:
    world = await _world(client)
    tenant, treasurer = world.tenant, world.tenant.treasurer

    async def created(path: str, body: dict[str, object]) -> str:
        response = await client.post(tenant.base + path, json=body, headers=treasurer)
        assert response.status_code in (200, 201), response.text
        found: str = response.json().get("id", "")
        return found

    await created("/chart/template", {})
    await created("/commodities", {"code": "EGGS", "name": "Eggs", "scale": 0})
    listed = await client.get(f"{tenant.base}/accounts?limit=500", headers=treasurer)
    codes = {a["code"]: a["id"] for a in listed.json()["items"]}
    fund = await created(
        "/funds", {"name": "Grant", "code": "Grant", "held_in_account_id": codes["Assets:Bank"]}
    )
    income = {"account_id": codes["Income:Grants"], "amount": 100_000}
    await created(f"/funds/{fund}/income", income)
    return Economy(
        world=world,
        codes=codes,
        fund=fund,
        own_barter=await created("/barters", _barter_body(tenant.ann["id"], tenant.bob["id"])),
        others_barter=await created("/barters", _barter_body(None, tenant.bob["id"])),
        schedule=await created("/schedules", _schedule_body(codes)),
    )


ECONOMY_READS: list[tuple[str, Callable[[Economy], str], dict[str, int]]] = [
    ("account groups", lambda e: "/account-groups", _expect(200, member=403)),
    ("funds", lambda e: "/funds", _expect(200, member=200)),
    ("fund", lambda e: f"/funds/{e.fund}", _expect(200, member=200)),
    ("barters", lambda e: "/barters", _expect(200, member=200)),
    ("own barter", lambda e: f"/barters/{e.own_barter}", _expect(200, member=200)),
    ("other's barter", lambda e: f"/barters/{e.others_barter}", _expect(200, member=404)),
    ("schedules", lambda e: "/schedules", _expect(200, member=403)),
    ("schedule", lambda e: f"/schedules/{e.schedule}", _expect(200, member=403)),
    ("occurrences", lambda e: f"/schedules/{e.schedule}/occurrences", _expect(200, member=403)),
]


async def test_economy_reads(client: Client) -> None:
    economy = await _economy(client)
    wrong: list[str] = []
    for name, path, grid in ECONOMY_READS:
        for caller, expected in grid.items():
            response = await client.get(
                economy.world.tenant.base + path(economy), headers=economy.world.headers[caller]
            )
            if response.status_code != expected:
                wrong.append(f"{name} as {caller}: {response.status_code}, expected {expected}")
    assert wrong == []


async def test_economy_writes(client: Client) -> None:
    economy = await _economy(client)
    world, codes = economy.world, economy.codes
    tenant = world.tenant
    unique = iter(range(1000))
    staff_only = ("write", "read")
    rows: list[tuple[str, Callable[[], str], Callable[[], dict[str, object]], dict[str, int]]] = [
        ("template", lambda: "/chart/template", dict, _expect(200, member=403, denied=staff_only)),
        (
            "fund",
            lambda: "/funds",
            lambda: {
                "name": "F",
                "code": f"F{next(unique)}",
                "held_in_account_id": codes["Assets:Bank"],
            },
            _expect(201, member=403, denied=staff_only),
        ),
        (
            "fund income",
            lambda: f"/funds/{economy.fund}/income",
            lambda: {"account_id": codes["Income:Grants"], "amount": 10},
            _expect(201, member=403, denied=("read",)),
        ),
        (
            "fund spend",
            lambda: f"/funds/{economy.fund}/spend",
            lambda: {"account_id": codes["Expenses:Tools"], "amount": 10},
            _expect(201, member=403, denied=("read",)),
        ),
        (
            "barter",
            lambda: "/barters",
            lambda: _barter_body(tenant.ann["id"], tenant.bob["id"]),
            _expect(201, member=403, denied=("read",)),
        ),
        (
            "schedule",
            lambda: "/schedules",
            lambda: _schedule_body(codes),
            _expect(201, member=403, denied=staff_only),
        ),
    ]

    async def fresh_schedule() -> str:
        response = await client.post(
            f"{tenant.base}/schedules", json=_schedule_body(codes), headers=tenant.treasurer
        )
        schedule_id: str = response.json()["id"]
        return schedule_id

    wrong: list[str] = []
    for name, path, body, grid in rows:
        for caller, expected in grid.items():
            response = await client.post(
                tenant.base + path(), json=body(), headers=world.headers[caller]
            )
            if response.status_code != expected:
                wrong.append(f"{name} as {caller}: {response.status_code}, expected {expected}")
    for action in ("pause", "end"):
        for caller, expected in _expect(200, member=403, denied=staff_only).items():
            url = f"{tenant.base}/schedules/{await fresh_schedule()}/{action}"
            response = await client.post(url, headers=world.headers[caller])
            if response.status_code != expected:
                wrong.append(f"{action} as {caller}: {response.status_code}, expected {expected}")
    assert wrong == []
