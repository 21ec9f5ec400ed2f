"""What a member token may see: its own member, accounts and entries, nothing of others.

Everything else of another member answers 404, as if it did not exist."""

from __future__ import annotations

import uuid

from litestar.exceptions import NotFoundException

from ledger.access.principals import Principal
from ledger.kernel.model import Account, Entry


def check_member(principal: Principal, member_id: uuid.UUID) -> None:
    if principal.is_member and principal.member_id != member_id:
        raise NotFoundException(f"member {member_id} does not exist")


def check_account(principal: Principal, account: Account) -> None:
    if principal.is_member and account.member_id != principal.member_id:
        raise NotFoundException(f"account {account.id} does not exist")


def check_entry(principal: Principal, entry: Entry, own_accounts: set[uuid.UUID]) -> None:
    if principal.is_member and not any(p.account_id in own_accounts for p in entry.postings):
        raise NotFoundException(f"entry {entry.id} does not exist")
