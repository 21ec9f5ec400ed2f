"""The member page through the test client, on SQLite and PostgreSQL: sign-in and sessions,
CSRF, escaping, the record form's messages, who may answer an exchange, and languages."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import date, timedelta
from html import unescape

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.settings import Settings
from api.web import SECURITY_HEADERS
from api.web.session import SESSION_COOKIE
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.clock import utc_now
from ledger.kernel.model import AccountType, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from ledger.timebank.exchanges import Exchanges, ExchangeStatus
from reports.period import Period
from reports.service import Reports
from tests.web.conftest import SIGN_INS_PER_MINUTE, People, csrf_of, post_form, sign_in

Client = AsyncTestClient[Litestar]


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_a_signed_out_visitor_sees_the_sign_in_form(web: Client) -> None:
    response = await web.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/sign-in">' in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]
    redirected = await web.get("/exchanges", follow_redirects=False)
    assert (redirected.status_code, redirected.headers["location"]) == (303, "/sign-in")


async def test_signing_in_sets_a_session_cookie_that_is_not_the_member_token(
    web: Client, people: People
) -> None:
    form = await web.get("/sign-in")
    response = await web.post(
        "/sign-in",
        data={"token": people.tokens["Ann"], "_csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes, "plain HTTP: a Secure cookie would never come back"
    assert people.tokens["Ann"] not in cookie
    home = await web.get("/")
    assert "Ann" in text_of(home.text) and "Your hours" in home.text


async def test_over_https_the_session_cookie_is_secure(database_url: str, people: People) -> None:
    app = create_app(Settings(database_url=database_url))
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        form = await client.get("/sign-in")
        response = await client.post(
            "/sign-in",
            data={"token": people.tokens["Ann"], "_csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


async def test_unknown_tokens_and_api_keys_do_not_sign_in(
    web: Client, people: People, access: Access
) -> None:
    _, api_key = await access.issue_api_key(people.community.id, "k", frozenset({Scope.READ}))
    for token in ("cl_not-a-real-token", api_key, ""):
        form = await web.get("/sign-in")
        response = await web.post(
            "/sign-in", data={"token": token, "_csrf_token": csrf_of(form.text)}
        )
        assert response.status_code == 401
        assert "unknown, expired or withdrawn" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_a_sign_in_link_fills_the_form_and_signs_in_only_on_post(
    web: Client, people: People
) -> None:
    link = await web.get("/sign-in", params={"token": people.tokens["Bob"]})
    assert link.status_code == 200
    assert f'value="{people.tokens["Bob"]}"' in link.text
    assert link.headers["referrer-policy"] == "no-referrer"
    assert SESSION_COOKIE not in web.cookies
    await sign_in(web, people.tokens["Bob"])
    assert "Bob" in text_of((await web.get("/")).text)


async def test_signing_out_ends_the_session_on_the_server(web: Client, people: People) -> None:
    await sign_in(web, people.tokens["Ann"])
    session = web.cookies[SESSION_COOKIE]
    response = await post_form(web, "/sign-out", {}, page="/")
    assert (response.status_code, response.headers["location"]) == (303, "/")
    web.cookies.set(SESSION_COOKIE, session)  # a copy of the cookie kept by someone
    again = await web.get("/exchanges", follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/sign-in")
    # The member token itself still works: signing out ends only that session.
    await sign_in(web, people.tokens["Ann"])


async def test_sign_in_attempts_are_rate_limited(web: Client) -> None:
    # The throttle counts per minute of the monotonic clock: start well inside one.
    if time.monotonic() % 60 > 50:
        await asyncio.sleep(61 - time.monotonic() % 60)
    statuses = []
    for _ in range(SIGN_INS_PER_MINUTE + 1):
        form = await web.get("/sign-in")
        response = await web.post(
            "/sign-in", data={"token": "cl_wrong", "_csrf_token": csrf_of(form.text)}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * SIGN_INS_PER_MINUTE + [429]
    assert int(response.headers["retry-after"]) in range(1, 61)
    assert "Too many attempts" in response.text


async def test_a_post_without_the_csrf_token_is_refused(
    web: Client, people: People, ledger: Ledger
) -> None:
    await sign_in(web, people.tokens["Ann"])
    form = {
        "receiver": str(people.bob.id),
        "hours": "1",
        "minutes": "0",
        "description": "Forged",
    }
    response = await web.post("/exchanges", data=form, follow_redirects=False)
    assert response.status_code == 403
    wrong = await web.post(
        "/exchanges", data={**form, "_csrf_token": "0" * 128}, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert await Exchanges(ledger).list_exchanges(people.community.id) == []


async def test_names_and_descriptions_are_escaped(
    web: Client, people: People, ledger: Ledger
) -> None:
    script = "<script>alert(1)</script>"
    evil = await ledger.create_member(people.community.id, script, hours_min=-600)
    await Exchanges(ledger).record(
        people.community.id,
        provider_id=evil.id,
        receiver_id=people.ann.id,
        minutes=30,
        description='<img src=x onerror="alert(2)">',
    )
    await sign_in(web, people.tokens["Ann"])
    page = (await web.get("/exchanges")).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert f"{script} helped you for 30 min" in text_of(page)


async def test_recording_help_makes_a_pending_exchange_for_the_receiver(
    web: Client, people: People, ledger: Ledger
) -> None:
    await sign_in(web, people.tokens["Ann"])
    form = {"receiver": str(people.bob.id), "hours": "1", "minutes": "30", "description": "Fence"}
    response = await post_form(web, "/exchanges", form)
    assert (response.status_code, response.headers["location"]) == (303, "/exchanges?done=recorded")
    [exchange] = await Exchanges(ledger).list_exchanges(people.community.id)
    assert (exchange.provider_member_id, exchange.receiver_member_id) == (
        people.ann.id,
        people.bob.id,
    )
    assert (exchange.minutes, exchange.description) == (90, "Fence")
    assert exchange.status is ExchangeStatus.PENDING
    shown = text_of((await web.get("/exchanges?done=recorded")).text)
    assert "Your help is recorded" in shown
    assert "You helped Bob for 1 h 30 min: Fence" in shown


async def test_each_mistake_in_the_form_has_its_own_message(
    web: Client, people: People, ledger: Ledger
) -> None:
    await sign_in(web, people.tokens["Ann"])
    bob = str(people.bob.id)
    cases = [
        ({"receiver": str(uuid.uuid4()), "hours": "1"}, "Choose the member you helped"),
        ({"receiver": str(people.ann.id), "hours": "1"}, "Choose the member you helped"),
        ({"receiver": bob, "hours": "0", "minutes": "0"}, "at least 1 minute"),
        ({"receiver": bob, "hours": "25"}, "more than 24 hours"),
        ({"receiver": bob, "hours": "one"}, "whole hours and minutes"),
        ({"receiver": bob, "hours": "11"}, "more time than your limits or theirs allow"),
    ]
    for fields, message in cases:
        form = {"minutes": "", "description": "Weeding", **fields}
        response = await post_form(web, "/exchanges", form)
        assert response.status_code == 422, (fields, response.text)
        assert message in unescape(response.text), fields
        assert 'value="Weeding"' in response.text, "the form keeps what was typed"
    empty = await post_form(web, "/exchanges", {"receiver": bob, "hours": "1", "description": ""})
    assert "Say in a few words what you did" in empty.text
    assert f'<option value="{bob}" selected>' in empty.text
    assert await Exchanges(ledger).list_exchanges(people.community.id) == []


async def test_the_receiver_confirms_or_declines_and_the_balance_moves(
    web: Client, people: People, ledger: Ledger
) -> None:
    exchanges = Exchanges(ledger)
    community_id = people.community.id
    first = await exchanges.record(
        community_id, provider_id=people.bob.id, receiver_id=people.ann.id, minutes=90,
        description="Moving boxes",
    )  # fmt: skip
    second = await exchanges.record(
        community_id, provider_id=people.cy.id, receiver_id=people.ann.id, minutes=30,
        description="Soup",
    )  # fmt: skip
    await sign_in(web, people.tokens["Ann"])
    home = text_of((await web.get("/")).text)
    # Pending help already reserves against Ann's limit of 10 h received.
    assert "You can still receive 8 h of help." in home
    assert "Not confirmed yet: −2 h" in home
    confirmed = await post_form(web, f"/exchanges/{first.id}/confirm", {})
    assert confirmed.headers["location"] == "/exchanges?done=confirmed"
    declined = await post_form(web, f"/exchanges/{second.id}/decline", {})
    assert declined.headers["location"] == "/exchanges?done=declined"
    assert (await exchanges.get(community_id, first.id)).status is ExchangeStatus.CONFIRMED
    assert (await exchanges.get(community_id, second.id)).status is ExchangeStatus.DECLINED
    home = text_of((await web.get("/")).text)
    assert "Balance −1 h 30 min" in home
    assert "You can still receive 8 h 30 min of help." in home
    assert "Received 1 h 30 min" in home and "Given 0 min" in home
    again = await post_form(web, f"/exchanges/{first.id}/confirm", {})
    assert again.status_code == 409


async def test_only_the_receiver_may_answer_an_exchange(
    web: Client, people: People, ledger: Ledger
) -> None:
    exchanges = Exchanges(ledger)
    community_id = people.community.id
    theirs = await exchanges.record(
        community_id, provider_id=people.bob.id, receiver_id=people.cy.id, minutes=60,
        description="Not Ann's",
    )  # fmt: skip
    given = await exchanges.record(
        community_id, provider_id=people.ann.id, receiver_id=people.bob.id, minutes=60,
        description="Ann gave",
    )  # fmt: skip
    await sign_in(web, people.tokens["Ann"])
    for exchange_id in (theirs.id, given.id, uuid.uuid4()):
        for action in ("confirm", "decline"):
            response = await post_form(web, f"/exchanges/{exchange_id}/{action}", {})
            assert response.status_code == 404, (exchange_id, action)
            assert "not yours to see" in response.text
    assert "Not Ann" not in (await web.get("/exchanges")).text
    for exchange in (theirs, given):
        assert (await exchanges.get(community_id, exchange.id)).status is ExchangeStatus.PENDING


async def test_the_community_page_counts_this_months_confirmed_hours(
    web: Client, people: People, ledger: Ledger
) -> None:
    exchanges = Exchanges(ledger)
    community_id = people.community.id
    done = await exchanges.record(
        community_id, provider_id=people.bob.id, receiver_id=people.ann.id, minutes=45,
        description="Done",
    )  # fmt: skip
    await exchanges.confirm(community_id, done.id)
    await exchanges.record(
        community_id, provider_id=people.cy.id, receiver_id=people.ann.id, minutes=60,
        description="Still pending",
    )  # fmt: skip
    await sign_in(web, people.tokens["Cy"])
    page = text_of((await web.get("/community")).text)
    assert "Hours exchanged 45 min" in page
    assert "Active members 2" in page
    assert "Emergency fund No report has been stored yet." in page


async def test_the_community_page_shows_the_latest_stored_report(
    web: Client, people: People, ledger: Ledger, engine: AsyncEngine
) -> None:
    community = people.community
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    fund, grants = [
        await ledger.open_account(community.id, NewAccount(code, code, kind, "EUR"))
        for code, kind in (
            ("Assets:EmergencyFund", AccountType.ASSET),
            ("Income:Grants", AccountType.INCOME),
        )
    ]
    grant = NewEntry(
        (PostingSpec(fund.id, 50_000), PostingSpec(grants.id, -50_000)),
        "Grant", effective_date=date(2025, 6, 1),
    )  # fmt: skip
    await ledger.post_entry(community.id, grant)
    await Reports(SqlUnitOfWorkFactory(engine), connection_of).take_snapshot(
        community, Period.parse("2025")
    )
    await sign_in(web, people.tokens["Ann"])
    page = text_of((await web.get("/community")).text)
    assert "Emergency fund On Dec 31, 2025 the fund held: Balance EUR 500.00" in page
    assert (
        "Sustainability report The latest report, from Jan 1, 2025 to Dec 31, 2025: "
        "Hours exchanged 0 min"
    ) in page


async def test_the_language_follows_accept_language(web: Client, people: People) -> None:
    german = await web.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9, de;q=0.8"})
    assert '<html lang="de">' in german.text
    assert "Anmeldecode" in german.text
    await sign_in(web, people.tokens["Ann"])
    home = text_of((await web.get("/", headers={"Accept-Language": "de-DE"})).text)
    assert "Deine Stunden" in home and "Du kannst noch 10 Std. Hilfe erhalten." in home
    english = await web.get("/", headers={"Accept-Language": "de;q=0.5, en;q=0.9"})
    assert '<html lang="en">' in english.text and "Your hours" in english.text


async def test_money_and_goods_balances_show_beside_the_hours(
    web: Client, people: People, ledger: Ledger
) -> None:
    await ledger.add_commodity(people.community.id, "EUR", "Euro", 2)
    await ledger.add_commodity(people.community.id, "EGGS", "Eggs", 0)
    shares = await ledger.open_account(
        people.community.id,
        NewAccount("Ann:Shares", "Ann's shares", AccountType.LIABILITY, "EUR", people.ann.id),
    )
    eggs = await ledger.open_account(
        people.community.id,
        NewAccount("Ann:Eggs", "Eggs owed to Ann", AccountType.LIABILITY, "EGGS", people.ann.id),
    )
    bank = await ledger.open_account(
        people.community.id, NewAccount("Bank", "Bank", AccountType.ASSET, "EUR")
    )
    pantry = await ledger.open_account(
        people.community.id, NewAccount("Pantry", "Pantry", AccountType.ASSET, "EGGS")
    )
    for debit, credit, amount in ((bank, shares, 1250), (pantry, eggs, 12)):
        postings = (PostingSpec(debit.id, amount), PostingSpec(credit.id, -amount))
        await ledger.post_entry(people.community.id, NewEntry(postings, "in"))
    await sign_in(web, people.tokens["Ann"])
    home = text_of((await web.get("/")).text)
    assert "Ann's shares EUR 12.50" in home
    assert "Eggs owed to Ann 12 eggs" in home
    assert "Bank" not in home and "Pantry" not in home, "only the member's own accounts"
    await sign_in(web, people.tokens["Bob"])
    assert "Other balances" not in (await web.get("/")).text


async def test_an_expired_session_signs_nobody_in(
    web: Client, people: People, access: Access
) -> None:
    principal = await access.authenticate(people.tokens["Ann"])
    assert principal is not None
    _, secret = await access.start_session(principal, timedelta(seconds=1))
    web.cookies.set(SESSION_COOKIE, secret)
    assert (await web.get("/exchanges", follow_redirects=False)).status_code == 200
    await asyncio.sleep(1.2)
    expired = await web.get("/exchanges", follow_redirects=False)
    assert (expired.status_code, expired.headers["location"]) == (303, "/sign-in")


async def test_home_says_when_an_exchange_waits_for_the_member(
    web: Client, people: People, ledger: Ledger
) -> None:
    exchanges = Exchanges(ledger)
    community_id = people.community.id
    await exchanges.record(
        community_id, provider_id=people.bob.id, receiver_id=people.ann.id, minutes=60,
        description="Weeding",
    )  # fmt: skip
    await sign_in(web, people.tokens["Ann"])
    html = (await web.get("/")).text
    home = text_of(html)
    assert "1 exchange waits for you. Confirm or decline" in home
    assert 'href="/exchanges#answer-heading"' in html
    assert "Not confirmed yet: −1 h" in home
    # Bob gave the help: it waits for Ann, not for him.
    await sign_in(web, people.tokens["Bob"])
    home = text_of((await web.get("/")).text)
    assert "waits for you" not in home
    assert "Not confirmed yet: 1 h The other member still has to confirm" in home


async def test_help_given_earlier_is_recorded_on_its_day_with_its_kind(
    web: Client, people: People, ledger: Ledger
) -> None:
    await sign_in(web, people.tokens["Ann"])
    earlier = (utc_now().date() - timedelta(days=6)).isoformat()
    form = {
        "receiver": str(people.bob.id), "hours": "1", "minutes": "", "description": "Fence",
        "day": earlier, "category": "repairs",
    }  # fmt: skip
    response = await post_form(web, "/exchanges", form)
    assert response.status_code == 303, response.text
    [exchange] = await Exchanges(ledger).list_exchanges(people.community.id)
    assert (exchange.effective_date.isoformat(), exchange.category) == (earlier, "repairs")
    future = (utc_now().date() + timedelta(days=1)).isoformat()
    refused = await post_form(web, "/exchanges", {**form, "day": future})
    assert refused.status_code == 422
    assert "That day is still to come" in unescape(refused.text)
    assert f'value="{future}"' in refused.text, "the form keeps what was typed"


async def test_goods_show_their_name_a_minus_sign_and_what_owing_means(
    web: Client, people: People, ledger: Ledger
) -> None:
    await ledger.add_commodity(people.community.id, "HONEY", "Jars of honey", 0)
    owed = await ledger.open_account(
        people.community.id,
        NewAccount("Ann:Honey", "Honey of Ann", AccountType.LIABILITY, "HONEY", people.ann.id),
    )
    pantry = await ledger.open_account(
        people.community.id, NewAccount("Pantry", "Pantry", AccountType.ASSET, "HONEY")
    )
    postings = (PostingSpec(owed.id, 4), PostingSpec(pantry.id, -4))
    await ledger.post_entry(people.community.id, NewEntry(postings, "taken"))
    await sign_in(web, people.tokens["Ann"])
    home = text_of((await web.get("/")).text)
    assert "Honey of Ann −4 jars of honey" in home
    assert "HONEY" not in home and "-4" not in home
    assert "A balance below zero (−) is what you owe the community" in home
