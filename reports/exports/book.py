"""What every writer needs besides the entries: the chart of accounts with export names, the
commodities, the opening balances of a date range and the closing balances to assert."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from reports.queries.journal import DateRange, JournalAccount, JournalCommodity


@dataclass(frozen=True, slots=True)
class ExportHead:
    community: str
    """The community's name, for the file's header."""
    dates: DateRange
    open_date: date
    """The day every account is opened (Beancount needs it on or before its first posting)."""
    commodities: tuple[JournalCommodity, ...]
    accounts: tuple[JournalAccount, ...]
    names: Mapping[uuid.UUID, str]
    """Every account's export name (``reports.exports.naming``)."""
    opening: Mapping[uuid.UUID, int] = field(default_factory=dict)
    """When the range has a start: per account, debits − credits of posted entries before it,
    written as one opening entry dated the start, so that the file's balances are the books'.
    Per commodity these sum to zero, like every entry."""

    @property
    def scales(self) -> dict[str, int]:
        return {commodity.code: commodity.scale for commodity in self.commodities}

    @property
    def commodity_of(self) -> dict[uuid.UUID, str]:
        return {account.id: account.commodity for account in self.accounts}

    def account_units(self, unit_of: Callable[[str], str]) -> dict[uuid.UUID, tuple[str, int, str]]:
        """Per account: its export name, its commodity's scale and the commodity as the file
        names it (``unit_of``), looked up once per posting by the text writers."""
        scales, commodity_of = self.scales, self.commodity_of
        return {
            account_id: (name, scales[commodity_of[account_id]], unit_of(commodity_of[account_id]))
            for account_id, name in self.names.items()
        }


@dataclass(frozen=True, slots=True)
class ExportClose:
    as_of: date
    """The last day the export covers: the range's end, or the last entry's date when open."""
    balances: Mapping[uuid.UUID, int]
    """Per account, debits − credits of posted entries effective on or before ``as_of``."""


OPENING_DESCRIPTION = "Opening balances"
CLOSING_DESCRIPTION = "Balance assertions at the end of the range"
