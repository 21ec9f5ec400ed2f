"""The words of the ledger's refusals that name amounts: in the commodity's own unit (``35 h 30
min``, ``EUR 12.50``) and the account's name, with the raw integers kept as problem extension
members for programs. The checks in :mod:`ledger.books.rules` decide; this module only words.
A message is a function of the community's units, which the write path reads only once a write
has failed (``ledger.books.writes``), so a write that succeeds pays nothing for it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping

from ledger.kernel import errors
from ledger.kernel.model import Account, NewEntry
from ledger.kernel.quantity import Units, show, unit_for


def unbalanced(
    entry: NewEntry, accounts: Mapping[uuid.UUID, Account], off: Mapping[str, int]
) -> errors.Unbalanced:
    """``unbalanced`` for the commodities in ``off`` (their sums, not zero)."""
    names: dict[str, list[str]] = defaultdict(list)
    for spec in entry.postings:
        account = accounts[spec.account_id]
        if account.name not in names[account.commodity]:
            names[account.commodity].append(account.name)

    def words(units: Units | None) -> str:
        if len(off) > 1:
            held = "; ".join(
                f"{', '.join(names[code])} in {unit_for(code, units).name}" for code in off
            )
            return (
                f"the accounts hold different commodities ({held}): an entry moves each "
                "commodity on its own, so what leaves one account of a commodity must enter "
                "another account of the same commodity"
            )
        ((code, total),) = off.items()
        unit = unit_for(code, units)
        side = "debits exceed credits" if total > 0 else "credits exceed debits"
        return f"the postings in {unit.name} do not sum to zero: {side} by {show(abs(total), unit)}"

    return errors.Unbalanced(words, members={"imbalance": dict(off)}, imbalance=dict(off))


def beyond(account: Account, side: str, after: int, limit: int) -> errors.LimitExceeded:
    """``limit_exceeded`` for ``account``, whose balance would reach ``after`` past its ``side``
    limit (both in the smallest unit), counting pending entries."""
    verb, where = ("fall to", "below") if side == "min" else ("rise to", "above")

    def words(units: Units | None) -> str:
        unit = unit_for(account.commodity, units)
        return (
            f"{account.name} would {verb} {show(after, unit)}, counting pending entries, "
            f"{where} its limit of {show(limit, unit)}"
        )

    members = {
        "account_id": str(account.id),
        "commodity": account.commodity,
        "balance_after": after,
        ("balance_min" if side == "min" else "balance_max"): limit,
    }
    return errors.LimitExceeded(words, members=members, account_id=account.id, limit=side)
