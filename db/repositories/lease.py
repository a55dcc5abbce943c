"""The single-instance lease: one row naming the process that may dispatch jobs and post them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotLease

LEASE_ROW = 1
"""The one row's id (migration 0005 inserts it)."""


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, holder: str, *, now: datetime, until: datetime) -> datetime | None:
        """Take the lease for holder until `until` if it is free, expired or already holder's: one conditional
        UPDATE, so two processes cannot both take it. None if taken; else when the other holder's lease ends."""
        result = await self.session.execute(
            update(BotLease)
            .where(
                BotLease.id == LEASE_ROW,
                or_(
                    BotLease.holder.is_(None),
                    BotLease.holder == holder,
                    BotLease.expires_at.is_(None),
                    BotLease.expires_at <= now,
                ),
            )
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            return None
        row = await self.session.get(BotLease, LEASE_ROW)
        if row is None:  # the row was deleted by hand: put it back, taken
            self.session.add(BotLease(id=LEASE_ROW, holder=holder, expires_at=until))
            await self.session.flush()
            return None
        return row.expires_at or now

    async def renew(self, holder: str, *, until: datetime) -> bool:
        """Extend holder's lease; False if holder no longer holds it (it expired and another process took it)."""
        result = await self.session.execute(
            update(BotLease)
            .where(BotLease.id == LEASE_ROW, BotLease.holder == holder)
            .values(expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release(self, holder: str) -> None:
        """Free the lease if holder still holds it."""
        await self.session.execute(
            update(BotLease)
            .where(BotLease.id == LEASE_ROW, BotLease.holder == holder)
            .values(holder=None, expires_at=None)
            .execution_options(synchronize_session=False)
        )
