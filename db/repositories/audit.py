"""The moderators' audit log: append-only, read newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AUDIT_VALUE_CHARS, AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditEntry) -> None:
        """Store the entry, its before and after cut to fit their columns (a ban reason can be longer)."""
        entry.before, entry.after = _fit(entry.before), _fit(entry.after)
        self.session.add(entry)
        await self.session.flush()

    async def page(self, guild_id: int, *, before_id: int | None, limit: int) -> Sequence[AuditEntry]:
        """Up to `limit` entries, newest first, older than `before_id` when given (the page cursor)."""
        query = select(AuditEntry).where(AuditEntry.guild_id == guild_id).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        return (await self.session.scalars(query)).all()


def _fit(value: str | None) -> str | None:
    if value is None or len(value) <= AUDIT_VALUE_CHARS:
        return value
    return value[: AUDIT_VALUE_CHARS - 1] + "…"
