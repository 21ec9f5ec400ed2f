"""The member page in real headless Chromium (Debian's ``/usr/bin/chromium`` driven through
Playwright; never a downloaded browser), on the demo data served by uvicorn on a loopback port.

Screenshots at 390 px and 1280 px width go to ``artifacts/screenshots/``. Without Chromium these
tests skip and say why, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from api.app import create_app
from api.demo.seed import seed_demo
from api.settings import Settings
from api.web.settings import WebSettings
from ledger.access.credentials import Access
from ledger.books.service import Ledger
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.timebank.exchanges import Exchanges, ExchangeStatus
from tests.databases import sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SCRIPT_NAME = "<script>alert(1)</script>"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (Debian package chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true: the browser tests must run", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Demo:
    url: str
    database_url: str
    community: Community
    ann_token: str
    ann_hours_minutes: int
    """Ann's posted HOURS balance when the server started, in minutes."""


def minutes_text(minutes: int) -> str:
    """What the page should show for a duration, written out independently of the page code."""
    hours, rest = divmod(abs(minutes), 60)
    sign = "−" if minutes < 0 else ""
    if hours and rest:
        return f"{sign}{hours} h {rest} min"
    return f"{sign}{hours} h" if hours else f"{sign}{rest} min"


async def _seed(database_url: str) -> tuple[Community, str, int]:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        community, _ = await seed_demo(ledger)
        ann = next(m for m in await ledger.list_members(community.id) if m.name == "Ann Weaver")
        # A member whose name is markup, waiting for Ann to answer: it must read as text.
        script = await ledger.create_member(community.id, SCRIPT_NAME, hours_min=-600)
        await Exchanges(ledger).record(
            community.id,
            provider_id=script.id,
            receiver_id=ann.id,
            minutes=20,
            description="Watered the plants",
        )
        _, token = await Access(uow).issue_member_token(community.id, ann.id, "browser test")
        hours = await ledger.balance(community.id, ann.hours_account_id)
        return community, token, hours.posted
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    _require_chromium()
    database_url = sqlite_url(tmp_path_factory.mktemp("browser") / "demo.db")
    community, token, hours = asyncio.run(_seed(database_url))
    app = create_app(Settings(database_url=database_url), WebSettings())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Demo(f"http://127.0.0.1:{port}", database_url, community, token, hours)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        # Usable at phone width: nothing wider than the viewport.
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def _exchange_status(demo: Demo, description: str) -> ExchangeStatus:
    async def find() -> ExchangeStatus:
        engine = create_engine(demo.database_url)
        try:
            listed = await Exchanges(Ledger(SqlUnitOfWorkFactory(engine))).list_exchanges(
                demo.community.id, limit=500
            )
        finally:
            await engine.dispose()
        [match] = [e for e in listed if e.description == description]
        return match.status

    # Playwright's synchronous API runs an event loop in this thread: read in another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, find()).result()


def test_a_member_signs_in_answers_records_and_signs_out(demo: Demo, browser: Browser) -> None:
    page = browser.new_page(locale="en-GB")
    dialogs: list[str] = []

    def note_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", note_dialog)

    page.goto(f"{demo.url}/sign-in?token={demo.ann_token}")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your hours")).to_be_visible()
    balance = page.get_by_test_id("hours-balance")
    expect(balance).to_have_text(minutes_text(demo.ann_hours_minutes))
    expect(page.get_by_text("You can still receive")).to_be_visible()
    _shoot(page, "home")

    page.get_by_role("link", name="Exchanges").click()
    plants = page.locator("li.pending", has_text="Watered the plants")
    expect(plants).to_contain_text(f"{SCRIPT_NAME} helped you for 20 min")
    _shoot(page, "exchanges")
    move = page.locator("li.pending", has_text="Help with the move")
    move.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Confirmed. The hours have moved.")
    assert _exchange_status(demo, "Help with the move") is ExchangeStatus.CONFIRMED

    plants.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_have_text("Declined. Nothing has moved.")
    assert _exchange_status(demo, "Watered the plants") is ExchangeStatus.DECLINED

    page.get_by_label("Whom did you help?").select_option(label="Bob Gardener")
    page.get_by_label("Hours").fill("0")
    page.get_by_label("Minutes").fill("0")
    page.get_by_label("What did you do?").fill("An afternoon in the community garden")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Enter how long you helped: at least 1 minute.")).to_be_visible()
    page.get_by_label("Hours").fill("3")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Your help is recorded")
    expect(
        page.get_by_text("You helped Bob Gardener for 3 h: An afternoon in the community garden")
    ).to_be_visible()
    assert _exchange_status(demo, "An afternoon in the community garden") is (
        ExchangeStatus.PENDING
    )

    page.get_by_role("link", name="Home").click()
    confirmed_balance = demo.ann_hours_minutes - 60
    expect(balance).to_have_text(minutes_text(confirmed_balance))
    page.get_by_role("link", name="Community").click()
    expect(page.get_by_test_id("active-members")).to_have_text(re.compile(r"^\d+$"))
    _shoot(page, "community")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Sign-in code")).to_be_visible()
    page.goto(f"{demo.url}/exchanges")
    expect(page).to_have_url(f"{demo.url}/sign-in")
    assert dialogs == [], "no markup from a name or description ever ran"
    page.close()


def test_a_form_post_without_the_csrf_token_is_refused(demo: Demo, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo.url}/sign-in")
    page.get_by_label("Sign-in code").fill(demo.ann_token)
    page.keyboard.press("Enter")  # the form works from the keyboard alone
    expect(page.get_by_role("heading", name="Your hours")).to_be_visible()
    forged = context.request.post(
        f"{demo.url}/exchanges",
        form={"receiver": "x", "hours": "1", "minutes": "0", "description": "forged"},
        max_redirects=0,
    )
    assert forged.status == 403
    context.close()


def test_the_sign_in_page_fits_320_px_and_shows_focus(demo: Demo, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.goto(demo.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "keyboard focus is visible"
    page.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from npm (``npm install`` in the repository root; package.json pins it)."""


def _require_axe() -> None:
    if AXE.exists():
        return
    reason = f"{AXE} is missing: run `npm install` in the repository root"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true: the accessibility check must run", pytrace=False)
    pytest.skip(reason)


def _violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A and AA rules (and its best practices) over the page as shown."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))
        }))"""
    )
    return [f"{v['id']} ({v['impact']}): {v['targets']}" for v in found]


def test_every_page_has_no_accessibility_violations(demo: Demo, browser: Browser) -> None:
    _require_axe()
    # The pages' Content-Security-Policy forbids scripts; let the test inject axe regardless.
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 900})
    page = context.new_page()
    seen: dict[str, list[str]] = {}
    page.goto(f"{demo.url}/")
    seen["sign-in"] = _violations(page)
    page.get_by_label("Sign-in code").fill("not a token")
    page.get_by_role("button", name="Sign in").click()
    seen["sign-in refused"] = _violations(page)
    page.goto(f"{demo.url}/sign-in?token={demo.ann_token}")
    page.get_by_role("button", name="Sign in").click()
    for name, path in (("home", "/"), ("exchanges", "/exchanges"), ("community", "/community")):
        page.goto(demo.url + path)
        seen[name] = _violations(page)
    page.goto(f"{demo.url}/exchanges")
    page.get_by_role("button", name="Record").click()  # every field wrong: the messages shown
    seen["exchanges with mistakes"] = _violations(page)
    # Answering an exchange that is not the member's: the page says sorry.
    page.goto(f"{demo.url}/exchanges")
    with page.expect_navigation():
        page.evaluate(
            "(action) => { const form = document.querySelector('form[action=\"/exchanges\"]');"
            " form.action = action; form.submit(); }",
            f"/exchanges/{uuid.uuid4()}/confirm",
        )
    expect(page.get_by_role("heading", name="Sorry")).to_be_visible()
    seen["sorry"] = _violations(page)
    context.close()
    assert {name: found for name, found in seen.items() if found} == {}


def test_touch_targets_are_44_px_and_sign_out_shares_a_row_at_390_px(
    demo: Demo, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{demo.url}/sign-in?token={demo.ann_token}")
    page.get_by_role("button", name="Sign in").click()
    for path in ("/", "/exchanges", "/community"):
        page.goto(demo.url + path)
        small = page.evaluate(
            """() => [...document.querySelectorAll('header a, header button, main .button, '
                                                   + 'main button')]
                .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
                .filter(([, r]) => r.height < 44 || r.width < 44)
                .map(([text, r]) => `${text}: ${Math.round(r.width)} x ${Math.round(r.height)}`)"""
        )
        assert small == [], (path, small)
        rows = page.evaluate(
            """() => ['header .who', 'header .signout button', 'header nav'].map(
                s => document.querySelector(s).getBoundingClientRect().top)"""
        )
        who, sign_out, nav = rows
        # "Sign out" sits on the first row, beside the name, never alone on a row of its own.
        assert sign_out < nav and abs(sign_out - who) < 24, (path, rows)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if path == "/":
            # The big balance reads as one figure, even a long one: "−135 h 45 min", never
            # "−135 h 45" over "min" (Esther's "−3 h 30 min" once broke so in the demo).
            lines = page.evaluate(
                """text => { const big = document.querySelector('[data-testid=hours-balance]');
                    big.textContent = text;
                    const range = document.createRange();
                    range.selectNodeContents(big);
                    return range.getClientRects().length; }""",
                minutes_text(-(135 * 60 + 45)),
            )
            assert lines == 1, f"the balance breaks over {lines} lines at 390 px"
    page.close()
