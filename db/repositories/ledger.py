"""The credit ledger: append-only rows; balances are sums."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LedgerEntry, LedgerKind


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def spent_since(self, guild_id: int, user_id: int, since: datetime) -> int:
        """Credits spent (reservations net of refunds) that count at or after `since`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.guild_id == guild_id,
                LedgerEntry.user_id == user_id,
                LedgerEntry.counts_at >= since,
            )
        )
        return -int(total or 0)

    async def reserve(self, *, guild_id: int, user_id: int, job_id: int, cost: int, at: datetime) -> None:
        self.session.add(
            LedgerEntry(
                guild_id=guild_id,
                user_id=user_id,
                job_id=job_id,
                kind=LedgerKind.RESERVE,
                delta=-cost,
                counts_at=at,
                created_at=at,
            )
        )
        await self.session.flush()

    async def refund(self, job_id: int, at: datetime) -> int:
        """Give back what `job_id` reserved, counted in the reservation's window. Returns the credits refunded.

        The caller refunds only after winning the job's state change; the unique
        (job_id, kind) constraint stops a second refund even if that guard were bypassed.
        """
        reservation = (
            await self.session.scalars(
                select(LedgerEntry).where(LedgerEntry.job_id == job_id, LedgerEntry.kind == LedgerKind.RESERVE)
            )
        ).one_or_none()
        if reservation is None:
            return 0
        self.session.add(
            LedgerEntry(
                guild_id=reservation.guild_id,
                user_id=reservation.user_id,
                job_id=job_id,
                kind=LedgerKind.REFUND,
                delta=-reservation.delta,
                counts_at=reservation.counts_at,
                created_at=at,
            )
        )
        await self.session.flush()
        return -reservation.delta
