"""Members and historical exchanges from spreadsheets (CSV), checked row by row before anything
is written.

``members.csv``: a header, then ``name`` and optionally ``hours_min`` and ``hours_max`` (whole
minutes; empty for no limit). ``exchanges.csv``: a header, then ``date`` (YYYY-MM-DD),
``provider`` and ``receiver`` (member names: of the community or of ``members.csv``),
``minutes``, ``description`` and optionally ``category``. Every bad row is reported with its file,
line number and reason — all of them, not only the first (as Beancount collects errors as
values) — and then nothing is imported. Otherwise :meth:`SpreadsheetImport.run` writes the members
and the exchanges (as confirmed exchange entries on their dates) in one transaction.
"""

from __future__ import annotations

import csv
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.books.service import Ledger, new_member
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Account, Entry, Member, NewEntry, PostingSpec
from ledger.timebank.exchanges import EXCHANGE_KIND, check_exchange

MEMBER_COLUMNS = ("name",)
EXCHANGE_COLUMNS = ("date", "provider", "receiver", "minutes", "description")


@dataclass(frozen=True, slots=True)
class RowError:
    source: str
    line: int
    reason: str
    """In people's words: amounts in the commodity's own unit."""
    members: Mapping[str, Any] = field(default_factory=dict)
    """The reason's facts for programs (raw integers in the smallest unit, ids), as a problem
    detail's extension members hold them; empty when the reason names no amount."""

    def __str__(self) -> str:
        return f"{self.source} line {self.line}: {self.reason}"


@dataclass
class Plan:
    """What an import would write, or why it cannot."""

    members: list[tuple[Member, Account]] = field(default_factory=list)
    entries: list[NewEntry] = field(default_factory=list)
    entry_lines: list[tuple[str, int]] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)


def _rows(
    source: str, lines: Iterable[str], required: Sequence[str], plan: Plan
) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines)
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        plan.problems.append(RowError(source, 1, f"the header lacks {', '.join(missing)}"))
        return []
    found = []
    for row in reader:
        if None in row:
            plan.problems.append(RowError(source, reader.line_num, "more cells than the header"))
            continue
        found.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return found


def _limit(text: str) -> int | None:
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise errors.InvalidInput(f"{text!r} is not a whole number of minutes")
    return int(text)


def plan_members(
    community_id: uuid.UUID,
    source: str,
    lines: Iterable[str],
    known: dict[str, uuid.UUID],
    plan: Plan,
) -> dict[str, Member]:
    """Adds the members of ``lines`` to ``plan``; returns them by name."""
    new: dict[str, Member] = {}
    now = utc_now()
    for line, row in _rows(source, lines, MEMBER_COLUMNS, plan):
        name = row["name"]
        if name in known or name in new:
            plan.problems.append(RowError(source, line, f"a member named {name!r} exists"))
            continue
        try:
            limits = _limit(row.get("hours_min", "")), _limit(row.get("hours_max", ""))
            member, account = new_member(community_id, name, *limits, now)
        except errors.LedgerError as exc:
            plan.problems.append(RowError(source, line, exc.detail))
            continue
        new[name] = member
        plan.members.append((member, account))
    return new


def plan_exchanges(
    source: str, lines: Iterable[str], accounts: dict[str, tuple[uuid.UUID, uuid.UUID]], plan: Plan
) -> None:
    """Adds the exchanges of ``lines`` to ``plan``; ``accounts`` maps each member name to the
    member's id and hours account id."""
    for line, row in _rows(source, lines, EXCHANGE_COLUMNS, plan):
        try:
            plan.entries.append(_exchange(row, accounts))
        except errors.LedgerError as exc:
            plan.problems.append(RowError(source, line, exc.detail))
            continue
        plan.entry_lines.append((source, line))


def _exchange(row: dict[str, str], accounts: dict[str, tuple[uuid.UUID, uuid.UUID]]) -> NewEntry:
    try:
        day = date.fromisoformat(row["date"])
    except ValueError:
        raise errors.InvalidInput(f"date {row['date']!r} is not YYYY-MM-DD") from None
    unknown = [row[who] for who in ("provider", "receiver") if row[who] not in accounts]
    if unknown:
        raise errors.InvalidInput(f"no single member is named {unknown[0]!r}")
    if not row["minutes"].isdigit():
        raise errors.InvalidInput(f"minutes {row['minutes']!r} is not a whole number")
    (provider, provider_account), (receiver, receiver_account) = (
        accounts[row["provider"]],
        accounts[row["receiver"]],
    )
    minutes, category = int(row["minutes"]), row.get("category") or None
    check_exchange(provider, receiver, minutes, row["description"], category)
    return NewEntry(
        postings=(PostingSpec(receiver_account, minutes), PostingSpec(provider_account, -minutes)),
        description=row["description"],
        effective_date=day,
        kind=EXCHANGE_KIND,
        metadata={
            "provider_member_id": str(provider),
            "receiver_member_id": str(receiver),
            "category": category,
            "imported": True,
        },
    )


class SpreadsheetImport:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def plan(
        self,
        community_id: uuid.UUID,
        members: tuple[str, Iterable[str]] | None,
        exchanges: tuple[str, Iterable[str]] | None,
    ) -> Plan:
        """Checks every row; the plan's ``problems`` list every bad one."""
        plan = Plan()
        existing = await self._all_members(community_id)
        known = {m.name: m.id for m in existing}
        new = plan_members(community_id, *members, known, plan) if members else {}
        if exchanges:
            everyone = [*existing, *new.values()]
            names = Counter(m.name for m in everyone)
            # A name two members share cannot say who took part: such rows are refused.
            accounts = {m.name: (m.id, m.hours_account_id) for m in everyone if names[m.name] == 1}
            plan_exchanges(*exchanges, accounts, plan)
        order = {source: n for n, (source, _) in enumerate(filter(None, (members, exchanges)))}
        plan.problems.sort(key=lambda problem: (order[problem.source], problem.line))
        return plan

    async def run(
        self, community_id: uuid.UUID, plan: Plan, progress: Callable[[int], object]
    ) -> list[Entry]:
        """Writes a plan without problems, all or nothing. A rule an entry breaks in the books
        (a limit, say) is reported as that row's problem."""
        assert not plan.problems, "import only a plan without problems"
        try:
            return await self._ledger.import_batch(
                community_id, plan.members, plan.entries, progress
            )
        except errors.LedgerError as exc:
            item = exc.context.get("item")
            if item is None:
                raise
            source, line = plan.entry_lines[item]
            raise errors.InvalidInput(str(RowError(source, line, exc.detail))) from exc

    async def _all_members(self, community_id: uuid.UUID) -> list[Member]:
        found: list[Member] = []
        while True:
            after = found[-1].id if found else None
            page = await self._ledger.list_members(community_id, after=after, limit=1000)
            found += page
            if len(page) < 1000:
                return found
