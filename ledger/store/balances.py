"""SQL of balances as of a date, from the postings or the maintained counters, and statements."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.model import Account, Counters, EntryStatus, StatementCursor, StatementLine
from ledger.store.tables import accounts, entries, postings, postings_by_account


class SqlBalances:
    """Balances and statements over one connection (reads only)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def counters_as_of(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date
    ) -> Counters:
        by_account = await self._counters_as_of(
            community_id, as_of, postings.c.account_id == account_id, accounts.c.id == account_id
        )
        return by_account.get(account_id, Counters())

    async def counters_by_account_as_of(
        self, community_id: uuid.UUID, as_of: date
    ) -> Mapping[uuid.UUID, Counters]:
        return await self._counters_as_of(community_id, as_of, sa.true(), sa.true())

    async def summed_from_postings(
        self, community_id: uuid.UUID, as_of: date
    ) -> dict[uuid.UUID, Counters]:
        """Per account, its postings of entries effective on or before ``as_of`` summed by their
        entry's status now — never the maintained counters (what checks of the counters compare
        them with)."""
        return await self._sum_postings(community_id, as_of, sa.true(), after=False)

    async def _counters_as_of(
        self,
        community_id: uuid.UUID,
        as_of: date,
        condition: sa.ColumnElement[bool],
        account_condition: sa.ColumnElement[bool],
    ) -> dict[uuid.UUID, Counters]:
        """From whichever end of the history is nearer ``as_of``: the postings dated on or before
        it summed, or the maintained counters (every posting of the account) less the postings
        dated after it — a balance as of a recent date then reads the recent postings only,
        however long the history. Exact both ways: the counters are kept equal to the sums of
        the postings by status in the transaction that changes them."""
        span = await self._postings_span(community_id, condition)
        if span is None or not _nearer_the_end(span, as_of):
            return await self._sum_postings(community_id, as_of, condition, after=False)
        later = await self._sum_postings(community_id, as_of, condition, after=True)
        a = accounts.c
        rows = await self._conn.execute(
            sa.select(
                a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending
            ).where(a.community_id == community_id, account_condition)
        )
        found: dict[uuid.UUID, Counters] = {}
        for account_id, *now in rows:
            taken = later.get(account_id, Counters())
            counters = Counters(
                now[0] - taken.debits_posted,
                now[1] - taken.credits_posted,
                now[2] - taken.debits_pending,
                now[3] - taken.credits_pending,
            )
            if counters != Counters():
                found[account_id] = counters
        return found

    async def _postings_span(
        self, community_id: uuid.UUID, condition: sa.ColumnElement[bool]
    ) -> tuple[date, date] | None:
        """The first and last effective dates of the postings (two index probes), or None."""
        p = postings.c
        where = (p.community_id == community_id, condition)
        row = (
            await self._conn.execute(
                sa.select(
                    sa.select(sa.func.min(p.effective_date)).where(*where).scalar_subquery(),
                    sa.select(sa.func.max(p.effective_date)).where(*where).scalar_subquery(),
                )
            )
        ).one()
        return None if row[0] is None else (row[0], row[1])

    async def _sum_postings(
        self,
        community_id: uuid.UUID,
        as_of: date,
        condition: sa.ColumnElement[bool],
        *,
        after: bool,
    ) -> dict[uuid.UUID, Counters]:
        """Per account, the postings dated on or before ``as_of`` (after it when ``after``)
        summed by their entry's status. Postings alone are summed (they carry their entry's
        date), whatever their entry's status; the postings of the few entries not posted (found
        through a partial index) are summed per status apart. Posted = all − those; pending =
        those of pending entries. Joining every posting to its entry for the status cost several
        times the sum itself."""
        p, e = postings.c, entries.c
        dated = p.effective_date > as_of if after else p.effective_date <= as_of
        debits = sa.func.sum(sa.case((p.amount > 0, p.amount), else_=0))
        credits = sa.func.sum(sa.case((p.amount < 0, -p.amount), else_=0))
        every = await self._conn.execute(
            sa.select(p.account_id, debits, credits)
            .where(p.community_id == community_id, dated, condition)
            .group_by(postings_by_account(self._conn.dialect.name))
        )
        totals = {row[0]: [int(row[1]), int(row[2]), 0, 0] for row in every}
        # A literal, not a parameter: only then may PostgreSQL use the partial index.
        not_posted = e.status != sa.literal_column(f"'{EntryStatus.POSTED.value}'")
        unposted = await self._conn.execute(
            sa.select(p.account_id, e.status, debits, credits)
            .select_from(
                entries.join(postings, (p.community_id == e.community_id) & (p.entry_id == e.id))
            )
            .where(e.community_id == community_id, not_posted, dated, condition)
            .group_by(p.account_id, e.status)
        )
        for account_id, status, debit, credit in unposted:
            total = totals[account_id]
            total[0] -= int(debit)
            total[1] -= int(credit)
            if status == EntryStatus.PENDING.value:
                total[2] += int(debit)
                total[3] += int(credit)
        return {account_id: Counters(*total) for account_id, total in totals.items()}

    async def statement(
        self,
        community_id: uuid.UUID,
        account: Account,
        *,
        after: StatementCursor | None,
        limit: int,
    ) -> Sequence[tuple[StatementLine, StatementCursor]]:
        order = (postings.c.effective_date, postings.c.entry_id, postings.c.line)
        base = (
            sa.select(postings.c.amount)
            .join(
                entries,
                sa.and_(
                    entries.c.community_id == postings.c.community_id,
                    entries.c.id == postings.c.entry_id,
                ),
            )
            .where(
                postings.c.community_id == community_id,
                postings.c.account_id == account.id,
                entries.c.status == EntryStatus.POSTED.value,
            )
        )
        position = sa.tuple_(*order)
        opening = 0
        page = base.add_columns(*order, entries.c.description)
        if after is not None:
            cursor = sa.tuple_(
                sa.literal(after.effective_date, sa.Date),
                sa.literal(after.entry_id, postings.c.entry_id.type),
                sa.literal(after.line, sa.SmallInteger),
            )
            before = base.where(position <= cursor).subquery()
            opening = int(
                (
                    await self._conn.execute(
                        sa.select(sa.func.coalesce(sa.func.sum(before.c.amount), 0))
                    )
                ).scalar_one()
            )
            page = page.where(position > cursor)
        rows = await self._conn.execute(page.order_by(*order).limit(limit))
        sign = account.type.normal_sign
        result: list[tuple[StatementLine, StatementCursor]] = []
        running = sign * opening
        for row in rows:
            running += sign * row.amount
            line = StatementLine(
                row.entry_id, row.effective_date, row.description, sign * row.amount, running
            )
            result.append((line, StatementCursor(row.effective_date, row.entry_id, row.line)))
        return result


def _nearer_the_end(span: tuple[date, date], as_of: date) -> bool:
    """Whether fewer postings lie after ``as_of`` than on or before it, guessed from the dates
    of the first and last postings as if evenly spread (a guess: either way is exact)."""
    first, last = span
    return (last - as_of) < (as_of - first)
