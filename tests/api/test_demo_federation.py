"""The demo's federation: Hilltop linked to the demo time-bank, the link active by both sides'
stewards, the cross transfers on both books and reconciled, seeded once; the demo printout
says what was seeded."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from api.bootstrap import federation_of, governance_of
from api.cli.serve import _demo
from api.demo.federation import CROSS_TRANSFERS, PARTNER_SLUG, seed_demo_federation
from api.demo.seed import seed_demo
from api.settings import Settings
from ledger.books.service import Ledger
from ledger.federation.model import LinkStatus
from ledger.kernel.model import HOURS


async def test_hilltop_is_linked_and_the_cross_transfers_reconcile(ledger: Ledger) -> None:
    community, _ = await seed_demo(ledger)
    federation = federation_of(ledger)
    linked = await seed_demo_federation(ledger, governance_of(ledger), federation, community)
    assert linked.partner.slug == PARTNER_SLUG and linked.link.status is LinkStatus.ACTIVE
    ours = await federation.transfers.reconcile(community.id, linked.link.id)
    theirs = await federation.transfers.reconcile(linked.partner.id, linked.link.id)
    assert ours.journal.agrees and ours.books_agree and theirs.books_agree
    assert ours.journal.agrees_up_to == len(CROSS_TRANSFERS)
    # The demo time-bank paid 120 + 90 minutes and was paid 60 + 45: it owes Hilltop 105.
    assert ours.books[HOURS] == 105 == -theirs.books[HOURS]
    again = await seed_demo_federation(ledger, governance_of(ledger), federation, community)
    assert (again.created, again.link.id, again.partner) == (False, linked.link.id, linked.partner)
    after = await federation.transfers.reconcile(community.id, linked.link.id)
    assert after.journal.agrees_up_to == len(CROSS_TRANSFERS)


async def test_the_demo_printout_names_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    arguments = argparse.Namespace(host="127.0.0.1", port=8123)
    assert await _demo(arguments, settings) == 0
    out = capsys.readouterr().out
    assert "Linked community 'Hilltop Commons (demo)' (slug 'demo-hilltop') seeded with 4" in out
    assert "(active): HOURS at 1:1, we may owe 20 h, they may owe 20 h" in out
    assert "A payer here:  Ann Weaver " in out and "A payee there: Mira Potter " in out
