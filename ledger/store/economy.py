"""The cooperative economy's SQL: designations, funds, schedules and their occurrences."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.economy.ports import Fund, Schedule
from ledger.kernel import errors
from ledger.store.scoped import ScopedStore
from ledger.store.tables import (
    account_designations,
    accounts,
    funds,
    schedule_occurrences,
    schedules,
)


class SqlEconomyStore(ScopedStore):
    """The economy store over one connection inside one transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection)
        self._dialect = connection.dialect.name

    def _insert_ignoring_conflicts(self, table: sa.Table) -> Any:
        # ON CONFLICT DO NOTHING: on PostgreSQL a concurrent claim of the same key waits for the
        # other transaction and then inserts nothing, instead of failing the transaction.
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    async def account_id_by_code(self, community_id: uuid.UUID, code: str) -> uuid.UUID | None:
        query = sa.select(accounts.c.id).where(
            accounts.c.community_id == community_id, accounts.c.code == code
        )
        found: uuid.UUID | None = (await self._conn.execute(query)).scalar()
        return found

    async def designate(
        self, community_id: uuid.UUID, account_id: uuid.UUID, designation: str
    ) -> None:
        await self._conn.execute(
            self._insert_ignoring_conflicts(account_designations).values(
                community_id=community_id, account_id=account_id, designation=designation
            )
        )

    async def designations(self, community_id: uuid.UUID) -> dict[uuid.UUID, str]:
        rows = await self._conn.execute(
            sa.select(account_designations.c.account_id, account_designations.c.designation).where(
                account_designations.c.community_id == community_id
            )
        )
        return {row.account_id: row.designation for row in rows}

    # Funds ------------------------------------------------------------------------------------

    async def insert_fund(self, fund: Fund) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    funds.insert().values(
                        community_id=fund.community_id,
                        id=fund.id,
                        name=fund.name,
                        purpose=fund.purpose,
                        account_id=fund.account_id,
                        created_at=fund.created_at,
                    )
                )
        except IntegrityError:
            raise errors.InvalidInput("that account already holds a fund") from None

    async def get_fund(self, community_id: uuid.UUID, fund_id: uuid.UUID) -> Fund | None:
        row = (
            await self._conn.execute(
                sa.select(funds).where(funds.c.community_id == community_id, funds.c.id == fund_id)
            )
        ).first()
        return None if row is None else _fund(row)

    async def list_funds(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int | None
    ) -> Sequence[Fund]:
        query = sa.select(funds).where(funds.c.community_id == community_id).order_by(funds.c.id)
        if after is not None:
            query = query.where(funds.c.id > after)
        if limit is not None:
            query = query.limit(limit)
        return [_fund(row) for row in await self._conn.execute(query)]

    # Schedules --------------------------------------------------------------------------------

    async def insert_schedule(self, schedule: Schedule) -> None:
        await self._conn.execute(schedules.insert().values(**_schedule_values(schedule)))

    async def get_schedule(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, *, lock: bool = False
    ) -> Schedule | None:
        query = sa.select(schedules).where(
            schedules.c.community_id == community_id, schedules.c.id == schedule_id
        )
        if lock and self._dialect == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _schedule(row)

    async def list_schedules(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int | None,
        status: str | None = None,
    ) -> Sequence[Schedule]:
        query = (
            sa.select(schedules)
            .where(schedules.c.community_id == community_id)
            .order_by(schedules.c.id)
        )
        if after is not None:
            query = query.where(schedules.c.id > after)
        if status is not None:
            query = query.where(schedules.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        return [_schedule(row) for row in await self._conn.execute(query)]

    async def update_schedule(self, schedule: Schedule) -> None:
        await self._conn.execute(
            schedules.update()
            .where(
                schedules.c.community_id == schedule.community_id,
                schedules.c.id == schedule.id,
            )
            .values(
                status=schedule.status,
                end_date=schedule.end_date,
                resumed_on=schedule.resumed_on,
            )
        )

    async def occurrences(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID
    ) -> dict[date, uuid.UUID]:
        rows = await self._conn.execute(
            sa.select(schedule_occurrences.c.period, schedule_occurrences.c.entry_id)
            .where(
                schedule_occurrences.c.community_id == community_id,
                schedule_occurrences.c.schedule_id == schedule_id,
            )
            .order_by(schedule_occurrences.c.period)
        )
        return {row.period: row.entry_id for row in rows}

    async def insert_occurrence(
        self,
        community_id: uuid.UUID,
        schedule_id: uuid.UUID,
        period: date,
        entry_id: uuid.UUID,
        created_at: datetime,
    ) -> bool:
        result = await self._conn.execute(
            self._insert_ignoring_conflicts(schedule_occurrences).values(
                community_id=community_id,
                schedule_id=schedule_id,
                period=period,
                entry_id=entry_id,
                created_at=created_at,
            )
        )
        return bool(result.rowcount == 1)


def _fund(row: sa.Row[Any]) -> Fund:
    return Fund(row.community_id, row.id, row.name, row.purpose, row.account_id, row.created_at)


def _schedule_values(schedule: Schedule) -> dict[str, Any]:
    return {
        "community_id": schedule.community_id,
        "id": schedule.id,
        "description": schedule.description,
        "debit_account_id": schedule.debit_account_id,
        "credit_account_id": schedule.credit_account_id,
        "amount": schedule.amount,
        "frequency": schedule.frequency,
        "start_date": schedule.start_date,
        "end_date": schedule.end_date,
        "status": schedule.status,
        "resumed_on": schedule.resumed_on,
        "created_at": schedule.created_at,
    }


def _schedule(row: sa.Row[Any]) -> Schedule:
    return Schedule(
        community_id=row.community_id,
        id=row.id,
        description=row.description,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        frequency=row.frequency,
        start_date=row.start_date,
        end_date=row.end_date,
        status=row.status,
        resumed_on=row.resumed_on,
        created_at=row.created_at,
    )
