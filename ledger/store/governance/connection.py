"""What the governance stores share: the unit of work's connection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection


class OnConnection:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
