"""The member page's help across communities in real headless Chromium (as
``tests.web.test_browser``): Ann Weaver of Riverside answers help recorded from Hilltop and
records help for a listed member of Hilltop, at 390 px and 1280 px (screenshots
``cross-exchanges-*.png`` in ``artifacts/screenshots/``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Browser, expect, sync_playwright

from api.app import create_app
from api.settings import Settings
from api.web.settings import WebSettings
from ledger.access.credentials import Access
from ledger.federation.exchange_model import CrossRecord, ExchangeRole
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from tests.databases import sqlite_url
from tests.ledger.federation_world import make_world
from tests.web.test_browser import CHROMIUM, _free_port, _require_chromium, _shoot


@dataclass(frozen=True)
class Linked:
    url: str
    ann_token: str


async def _seed(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        world = await make_world(engine)
        link = await world.link()
        ledger, exchanges = world.ledger, world.federation.exchanges
        ann = await ledger.create_member(world.a.cid, "Ann Weaver", hours_min=-600)
        bob = await ledger.create_member(world.b.cid, "Bob Miller", hours_min=-600)
        await exchanges.set_listed(world.b.cid, bob.id, True)
        await exchanges.record(
            world.b.cid,
            CrossRecord(link.id, bob.id, ExchangeRole.PROVIDER, ann.id, 75, "Mended the fence"),
        )
        uow = SqlUnitOfWorkFactory(engine)
        _, token = await Access(uow).issue_member_token(world.a.cid, ann.id, "browser test")
        return token
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Linked]:
    _require_chromium()
    database_url = sqlite_url(tmp_path_factory.mktemp("cross") / "cross.db")
    token = asyncio.run(_seed(database_url))
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
        yield Linked(f"http://127.0.0.1:{port}", token)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser(linked: Linked) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


def test_ann_answers_and_records_help_across_communities(linked: Linked, browser: Browser) -> None:
    page = browser.new_page(locale="en-GB")
    page.goto(f"{linked.url}/sign-in?token={linked.ann_token}")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Exchanges").click()
    fence = page.locator("li.pending", has_text="Mended the fence")
    expect(fence).to_contain_text("Bob Miller, Hilltop helped you for 1 h 15 min")
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Help across communities")
    )
    section.get_by_label("Whom did you help?").select_option(label="Bob Miller, Hilltop")
    section.get_by_label("Hours").fill("2")
    section.get_by_label("Minutes").fill("0")
    section.get_by_label("What did you do?").fill("Baked bread for the fair")
    section.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Your help is recorded")
    _shoot(page, "cross-exchanges")
    fence.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Confirmed. The hours have moved.")
    expect(
        page.get_by_text("Bob Miller, Hilltop helped you for 1 h 15 min: Mended the fence")
    ).to_be_visible()
    expect(
        page.get_by_text("You helped Bob Miller, Hilltop for 2 h: Baked bread for the fair")
    ).to_be_visible()
    page.get_by_role("button", name="List me for linked communities").click()
    expect(page.get_by_role("status")).to_contain_text("can now find you")
    _shoot(page, "cross-exchanges-after")
    page.close()
