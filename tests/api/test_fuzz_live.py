"""schemathesis against the live service on PostgreSQL, as a client on the network sees it.

``commons-ledger serve`` runs in a subprocess on a fresh PostgreSQL database; one community is
set up through the API; then ``st run`` drives every operation through all of schemathesis'
phases (examples, coverage, fuzzing, stateful) with every check. The identities come from a Web
Fuzzing Commons auth file: two member tokens first (schemathesis moves an operation on to the
next identity when it answers 401/403), then a treasurer key and the operator's admin token. The
two members are peers for the object-level authorisation check: neither may read what only the
other owns.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN, bearer
from tests.databases import migrate, postgres_database
from tests.faults.server import start_server

Doc = dict[str, Any]

SLUG = "fuzz"
API = "/api/v1"
COMMUNITY = f"{API}/communities/{{slug}}"
ENTRY = f"{COMMUNITY}/entries/{{entry_id}}"
EXCHANGE = f"{COMMUNITY}/exchanges/{{exchange_id}}"
ST = Path(sys.executable).with_name("st")
ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 15
"""Hypothesis examples per operation and phase: the run takes about two minutes."""
RUN_TIMEOUT_S = 900
ACCEPTED = ["2xx", "401", "403", "404", "409", "422"]
"""What a schema-valid request may answer: success, a refusal of the identity, or a documented
ledger problem the schema cannot rule out."""


@dataclass
class Setup:
    """Setup requests made through the API, as the community's treasurer."""

    client: httpx.Client
    token: str = ADMIN_TOKEN

    def post(self, path: str, body: Doc) -> Doc:
        response = self.client.post(
            path.replace("{slug}", SLUG), json=body, headers=bearer(self.token)
        )
        assert response.status_code in (200, 201), (path, response.text)
        result: Doc = response.json()
        return result

    def get(self, path: str) -> Doc:
        response = self.client.get(path.replace("{slug}", SLUG), headers=bearer(self.token))
        assert response.status_code == 200, (path, response.text)
        result: Doc = response.json()
        return result

    def member(self, name: str) -> Doc:
        # No limits: no amount the fuzzer moves can exhaust them.
        return self.post(f"{COMMUNITY}/members", {"name": name})

    def member_token(self, member: Doc) -> str:
        token: str = self.post(f"{COMMUNITY}/members/{member['id']}/tokens", {})["token"]
        return token

    def transfer(self, debit: Doc, credit: Doc, *, pending: bool = False) -> Doc:
        body = {
            "debit_account_id": debit["hours_account_id"],
            "credit_account_id": credit["hours_account_id"],
            "amount": 60,
            "description": "Help",
            "pending": pending,
        }
        return self.post(f"{COMMUNITY}/transfers", body)

    def exchange(self, provider: Doc, receiver: Doc) -> Doc:
        body = {
            "provider_member_id": provider["id"],
            "receiver_member_id": receiver["id"],
            "minutes": 30,
            "description": "Fixed a bike",
        }
        return self.post(f"{COMMUNITY}/exchanges", body)


def _only(method: str, path: str, **parameters: str) -> Doc:
    """Operation-specific fixed parameters (``path.x`` or ``body.x.y``)."""
    return {"include-method": method, "include-path": path, "parameters": parameters}


@dataclass
class Community:
    """The fuzzed community: its treasurer, and members Ann and Bob (the peers) and Cat."""

    treasurer: str
    members: dict[str, Doc]
    tokens: dict[str, str]
    snapshot_id: str


def _community(setup: Setup) -> Community:
    setup.post(f"{API}/communities", {"slug": SLUG, "name": "Fuzz"})
    setup.token = setup.post(f"{COMMUNITY}/api-keys", {"scopes": ["treasurer"]})["token"]
    members = {name: setup.member(name.title()) for name in ("ann", "bob", "cat")}
    tokens = {name: setup.member_token(members[name]) for name in ("ann", "bob")}
    snapshot = setup.post(f"{COMMUNITY}/reports/snapshots", {"period": "2025"})
    setup.post(f"{COMMUNITY}/chart/template", {})
    setup.post(f"{COMMUNITY}/commodities", {"code": "EGGS", "name": "Eggs", "scale": 0})
    return Community(setup.token, members, {**tokens, "treasurer": setup.token}, snapshot["id"])


def _auth_file(identities: list[tuple[str, str]], path: Path) -> Path:
    """A Web Fuzzing Commons auth document: schemathesis tries the identities in this order."""
    headers = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in identities
    ]
    path.write_text(json.dumps({"auth": headers}))
    return path


def _configuration(setup: Setup, community: Community, auth: Doc) -> Doc:
    """Sets up fresh resources and returns schemathesis' configuration: path parameters and the
    ids in bodies are fixed to resources that exist and that Ann may see, each operation that
    changes a resource's state on its own one, so that every operation can succeed."""
    ann, cat = community.members["ann"], community.members["cat"]
    patched = setup.post(
        f"{COMMUNITY}/accounts",
        {
            "code": f"fuzz:patched:{uuid.uuid4().hex[:8]}",
            "name": "Patched",
            "type": "asset",
            "commodity": "HOURS",
        },
    )
    to_post = setup.transfer(cat, ann, pending=True)
    to_void = setup.transfer(cat, ann, pending=True)
    to_reverse = setup.transfer(cat, ann)
    to_confirm = setup.exchange(cat, ann)
    to_decline = setup.exchange(cat, ann)
    # A subscription and a monitor for the lists to show. Their ids are pinned nowhere: the
    # earlier phases delete what they see, and a pinned id gone missing reads as a created
    # resource lost (ST302) in the stateful phase, which reaches both through the links of the
    # POSTs that create them.
    setup.post(f"{COMMUNITY}/webhooks", {"url": "http://127.0.0.1:9/fuzz"})
    setup.post(
        f"{COMMUNITY}/monitors",
        {"account_id": cat["hours_account_id"], "direction": "below", "threshold": 0},
    )
    governance = _governance(setup, cat)
    economy = _economy(setup, community)
    return {
        "workers": 1,
        "hooks": "tests.api.fuzz_hooks",
        "generation": {"max-examples": MAX_EXAMPLES},
        # The stateful phase follows the document's own links; guessing more from field names
        # paired a community's id with an account id.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
        "auth": {"wfc": auth},
        "checks": {
            # A body the schema accepts may still break a ledger rule the schema cannot state
            # (limits, balance per commodity, states of an entry, keys already used, ids of
            # another community): those answers are documented 404/409/422 problems.
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
        },
        "parameters": {
            "path.slug": SLUG,
            "path.member_id": ann["id"],
            "path.account_id": ann["hours_account_id"],
            "path.entry_id": to_reverse["id"],
            "path.exchange_id": to_confirm["id"],
            "path.snapshot_id": community.snapshot_id,
            **governance,
            "path.fund_id": economy["fund"],
            "path.barter_id": economy["barter"],
            "path.schedule_id": economy["schedule"],
        },
        "operations": [
            _only("PATCH", f"{COMMUNITY}/accounts/{{account_id}}", **{
                "path.account_id": patched["id"],
            }),
            _only("POST", f"{ENTRY}/post", **{"path.entry_id": to_post["id"]}),
            _only("POST", f"{ENTRY}/void", **{"path.entry_id": to_void["id"]}),
            {
                # An opaque cursor the service did not give out is refused, and so is a date
                # range that ends before it starts: no schema can say either.
                "include-method": "GET",
                "include-path-regex": (
                    "/(members|commodities|accounts|postings|entries|exchanges|snapshots"
                    "|events|webhooks|deliveries|monitors"
                    "|funds|barters|schedules|occurrences|account-groups|links|transfers)$"
                    "|/exports/|/reports/sustainability"
                ),
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            },
            _only("POST", f"{EXCHANGE}/decline", **{"path.exchange_id": to_decline["id"]}),
            _only("POST", f"{COMMUNITY}/transfers", **{
                "body.debit_account_id": cat["hours_account_id"],
                "body.credit_account_id": ann["hours_account_id"],
            }),
            _only("POST", f"{COMMUNITY}/entries", **{
                "body.postings.0.account_id": cat["hours_account_id"],
                "body.postings.1.account_id": ann["hours_account_id"],
            }),
            _only("POST", f"{COMMUNITY}/exchanges", **{
                "body.provider_member_id": ann["id"],
                "body.receiver_member_id": cat["id"],
            }),
            *economy["operations"],
        ],
    }  # fmt: skip


def _economy(setup: Setup, community: Community) -> Doc:
    """A fund with money, a barter Ann takes part in, schedules in each state, and the fixed
    ids of the economy's operations."""
    ann, cat = community.members["ann"], community.members["cat"]
    codes = {a["code"]: a["id"] for a in setup.get(f"{COMMUNITY}/accounts?limit=500")["items"]}
    fund = setup.post(
        f"{COMMUNITY}/funds",
        {
            "name": "Grant",
            "code": f"G{uuid.uuid4().hex[:8]}",
            "held_in_account_id": codes["Assets:Bank"],
        },
    )
    setup.post(
        f"{COMMUNITY}/funds/{fund['id']}/income",
        {
            "account_id": codes["Income:Grants"],
            "amount": 2**50,
        },
    )
    barter = setup.post(
        f"{COMMUNITY}/barters",
        {
            "sides": [
                {
                    "member_id": ann["id"],
                    "gives": [{"commodity": "HOURS", "quantity": 5, "description": "h"}],
                },
                {
                    "member_id": cat["id"],
                    "gives": [{"commodity": "EGGS", "quantity": 2, "description": "e"}],
                },
            ]
        },
    )
    dues = {
        "description": "Dues",
        "debit_account_id": codes["Assets:Bank"],
        "credit_account_id": codes["Income:Dues"],
        "amount": 100,
        "frequency": "monthly",
        "start_date": "2026-01-01",
    }
    schedules = [setup.post(f"{COMMUNITY}/schedules", dues)["id"] for _ in range(4)]
    setup.post(f"{COMMUNITY}/schedules/{schedules[2]}/pause", {})
    schedule = f"{COMMUNITY}/schedules/{{schedule_id}}"
    fund_path = f"{COMMUNITY}/funds/{{fund_id}}"
    return {
        "fund": fund["id"],
        "barter": barter["id"],
        "schedule": schedules[0],
        "operations": [
            _only("POST", f"{schedule}/pause", **{"path.schedule_id": schedules[1]}),
            _only("POST", f"{schedule}/resume", **{"path.schedule_id": schedules[2]}),
            _only("POST", f"{schedule}/end", **{"path.schedule_id": schedules[3]}),
            _only("POST", f"{COMMUNITY}/funds", **{
                "body.held_in_account_id": codes["Assets:Bank"],
            }),
            _only("POST", f"{fund_path}/income", **{"body.account_id": codes["Income:Grants"]}),
            _only("POST", f"{fund_path}/spend", **{"body.account_id": codes["Expenses:Tools"]}),
            _only("POST", f"{COMMUNITY}/barters", **{
                "body.sides.0.member_id": ann["id"], "body.sides.1.member_id": cat["id"],
            }),
            _only("POST", f"{COMMUNITY}/schedules", **{
                "body.debit_account_id": codes["Assets:Bank"],
                "body.credit_account_id": codes["Income:Dues"],
            }),
        ],
    }  # fmt: skip


def _governance(setup: Setup, cat: Doc) -> dict[str, str]:
    """A role term, a draft budget and a pending emergency-fund request (on an HOURS fund)."""
    admin = Setup(setup.client)
    term = admin.post(f"{COMMUNITY}/roles", {"member_id": cat["id"], "role": "steward"})
    fund = setup.post(
        f"{COMMUNITY}/accounts",
        {"code": f"fuzz:fund:{uuid.uuid4().hex[:8]}", "name": "Fund", "type": "asset",
         "commodity": "HOURS"},
    )  # fmt: skip
    settings = setup.client.put(
        f"{COMMUNITY}/governance".replace("{slug}", SLUG),
        json={"fund_account_id": fund["id"]},
        headers=bearer(ADMIN_TOKEN),
    )
    assert settings.status_code == 200, settings.text
    body = {
        "debit_account_id": fund["id"],
        "credit_account_id": cat["hours_account_id"],
        "description": "Into the fund",
    }
    setup.post(f"{COMMUNITY}/transfers", {**body, "amount": 10_000_000})
    request = setup.post(
        f"{COMMUNITY}/emergency-fund/disbursements",
        {"payee_account_id": cat["hours_account_id"], "amount": 60, "reason": "Tools"},
    )
    budget = setup.post(
        f"{COMMUNITY}/budgets",
        {"name": "Fuzz", "period": "2026",
         "lines": [{"account_group": "member", "commodity": "HOURS", "amount": 600}]},
    )  # fmt: skip
    return {
        "body.member_id": cat["id"],  # roles go to Cat, never to the identities fuzzing
        "path.term_id": term["id"],
        "path.budget_id": budget["id"],
        "path.disbursement_id": request["id"],
    }


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)


def _config_file(configuration: Doc, path: Path) -> Path:
    """TOML from the configuration (inline tables only, which JSON scalars spell the same)."""
    path.write_text("".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in configuration.items()))
    return path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Community, Path]]:
    folder = tmp_path_factory.mktemp("fuzz")
    with postgres_database("cl_fuzz") as database_url:
        asyncio.run(migrate(database_url))
        log = folder / "service.log"
        # The rate limit on, so that its headers are checked, but far above the fuzzer's pace.
        limit = {
            "COMMONS_LEDGER_RATE_LIMIT_PER_S": "1000000",
            "COMMONS_LEDGER_AUTH_FAILURES_PER_MINUTE": "0",
        }
        # Webhooks to loopback may be registered, and no delivery loop reaches out anywhere.
        hooks = {"COMMONS_LEDGER_WEBHOOK_ALLOW": "127.0.0.1", "COMMONS_LEDGER_WEBHOOK_POLL_MS": "0"}
        server = start_server(database_url, log, limit | hooks)
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                community = _community(Setup(client))
            yield server.url, community, log
        finally:
            server.stop()


PASSES = {
    # The community's staff: the treasurer, and the operator for what only it may do.
    "staff": (["treasurer", "admin"], []),
    # Two members, each of whom must not read what only the other owns.
    "members": (["ann", "bob"], ["ann", "bob"]),
}


@pytest.mark.timeout(RUN_TIMEOUT_S)
@pytest.mark.parametrize("identities", PASSES)
def test_every_operation_answers_as_documented(
    service: tuple[str, Community, Path], identities: str, tmp_path: Path
) -> None:
    """One run per group of identities: the check that a created resource can be read assumes
    that whoever created it reads it, which holds within a group (a member reads only their own
    accounts, so a treasurer's new account is rightly a 404 to them)."""
    url, community, log = service
    names, peers = PASSES[identities]
    tokens = {**community.tokens, "admin": ADMIN_TOKEN}
    auth_file = _auth_file([(name, tokens[name]) for name in names], tmp_path / "auth.json")
    auth: Doc = {"path": str(auth_file), **({"peers": peers} if peers else {})}
    with httpx.Client(base_url=url, timeout=10) as client:
        configuration = _configuration(Setup(client, community.treasurer), community, auth)
    config = _config_file(configuration, tmp_path / "schemathesis.toml")
    run = subprocess.run(
        [
            str(ST), "--config-file", str(config), "--no-color",
            "run", f"{url}/schema/openapi.json",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", "20261124",
            "--report", "har", "--report-dir", str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=RUN_TIMEOUT_S - 60,
        check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20_000:]
    # Probes whose answers schemathesis does not check (object-level and auth probes) count too.
    errors = [line for line in _request_lines(log) if line["status"] >= 500]
    assert errors == [], errors[:5]


def _request_lines(log: Path) -> list[Doc]:
    # The service still runs and may be writing a line: read the complete lines only.
    text = log.read_text()
    complete = text[: text.rfind("\n") + 1]
    lines = (line for line in complete.splitlines() if line.startswith("{"))
    return [entry for entry in map(json.loads, lines) if entry.get("event") == "request"]
