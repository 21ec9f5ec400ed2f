"""The services one application instance holds, reachable from any request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from api.metrics import Metrics
from api.settings import Settings
from ledger.audit_trail import AuditTrail
from ledger.credentials import Access
from ledger.service import Ledger


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    ledger: Ledger
    access: Access
    metrics: Metrics
    audit: AuditTrail

    @staticmethod
    def of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
        services = connection.app.state.services
        assert isinstance(services, Services)
        return services
