"""A member's goods accounts (opened by barter) get export names of their own, and their hours
account keeps its name."""

from __future__ import annotations

import uuid

from ledger.kernel.model import HOURS, AccountType
from reports.exports.naming import account_names
from reports.queries.journal import JournalAccount


def test_goods_accounts_of_a_member_have_names_of_their_own() -> None:
    member = uuid.uuid4()

    def account(commodity: str) -> JournalAccount:
        code = f"member:{member}" + ("" if commodity == HOURS else f":{commodity}")
        return JournalAccount(
            uuid.uuid4(), code, "x", AccountType.LIABILITY, commodity, member, "Ann Weaver"
        )

    hours, eggs = account(HOURS), account("EGGS")
    names = account_names([hours, eggs])
    short = member.hex[-8:]
    assert names[hours.id] == f"Liabilities:Members:Ann-Weaver-{short}"
    assert names[eggs.id] == f"Liabilities:Members:Ann-Weaver-{short}:EGGS"
