"""SQL of a community's governance settings (consent rule, approvals, the fund's target)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ledger.governance.model import ConsentRule, GovernanceSettings
from ledger.store.scoped import ScopedStore
from ledger.store.tables import governance_settings


class SqlSettings(ScopedStore):
    """Governance settings; a community without a row has the defaults."""

    async def get_settings(self, community_id: uuid.UUID) -> GovernanceSettings:
        t = governance_settings
        row = (
            await self._conn.execute(sa.select(t).where(t.c.community_id == community_id))
        ).first()
        if row is None:
            return GovernanceSettings(community_id)
        return GovernanceSettings(
            community_id=community_id,
            consent_rule=ConsentRule(row.consent_rule),
            consent_quorum=row.consent_quorum,
            approvals_required=row.approvals_required,
            request_days=row.request_days,
            fund_account_id=row.fund_account_id,
            fund_target=row.fund_target,
            fund_target_months=row.fund_target_months,
            updated_at=row.updated_at,
        )

    async def put_settings(self, settings: GovernanceSettings) -> None:
        t = governance_settings
        values = {
            "consent_rule": settings.consent_rule.value,
            "consent_quorum": settings.consent_quorum,
            "approvals_required": settings.approvals_required,
            "request_days": settings.request_days,
            "fund_account_id": settings.fund_account_id,
            "fund_target": settings.fund_target,
            "fund_target_months": settings.fund_target_months,
            "updated_at": settings.updated_at,
        }
        updated = await self._conn.execute(
            t.update().where(t.c.community_id == settings.community_id).values(**values)
        )
        if updated.rowcount == 0:
            await self._conn.execute(
                t.insert().values(community_id=settings.community_id, **values)
            )
