"""The credit ledger: append-only rows; balances are sums."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from common.states import LedgerKind
from db.models import Job, LedgerEntry
from db.repositories.members import MemberRepository


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def spent(
        self, since: Mapping[int, datetime], members: Collection[tuple[int, int]]
    ) -> dict[tuple[int, int], int]:
        """Credits each member spent (reservations net of refunds, grants and resets) that count at or
        after their server's window start, `since[guild_id]`."""
        query = (
            select(LedgerEntry.guild_id, LedgerEntry.user_id, func.sum(LedgerEntry.delta))
            .where(_in_windows(since, members))
            .group_by(LedgerEntry.guild_id, LedgerEntry.user_id)
        )
        rows = (await self.session.execute(query)).all()
        return {(guild_id, user_id): -int(total) for guild_id, user_id, total in rows}

    async def oldest_spends(
        self, since: Mapping[int, datetime], members: Collection[tuple[int, int]]
    ) -> dict[tuple[int, int], datetime]:
        """When each member's oldest reservation still counting (and not refunded) was made."""
        query = (
            select(LedgerEntry.guild_id, LedgerEntry.user_id, func.min(LedgerEntry.counts_at))
            .where(_in_windows(since, members), LedgerEntry.kind == LedgerKind.RESERVE, ~_given_back().exists())
            .group_by(LedgerEntry.guild_id, LedgerEntry.user_id)
        )
        return {(guild_id, user_id): oldest for guild_id, user_id, oldest in (await self.session.execute(query)).all()}

    async def grant(self, *, guild_id: int, user_id: int, credits: int, at: datetime) -> None:
        """A moderator's bonus: credits given to the member, counting in the window they are given in."""
        self.session.add(
            LedgerEntry(
                guild_id=guild_id, user_id=user_id, kind=LedgerKind.GRANT, delta=credits, counts_at=at, created_at=at
            )
        )
        await self.session.flush()

    async def reset(self, *, guild_id: int, user_id: int, since: datetime, at: datetime) -> int:
        """Give back each reservation of the member counting at or after `since` not yet given back.

        One RESET row per reservation, tied to its job and counting at the reservation's moment, so
        it leaves a window exactly when the spend it offsets does, and the job's later refund (if it
        fails) gives nothing more. Grants are left alone. Returns the credits given back. The caller
        holds the member's lock (refund takes it too), so a reset and a refund cannot both give back a job.
        """
        reservations = (
            await self.session.scalars(
                select(LedgerEntry)
                .where(
                    LedgerEntry.guild_id == guild_id,
                    LedgerEntry.user_id == user_id,
                    LedgerEntry.kind == LedgerKind.RESERVE,
                    LedgerEntry.job_id.is_not(None),
                    LedgerEntry.counts_at >= since,
                    ~_given_back().exists(),
                )
                .order_by(LedgerEntry.id)
            )
        ).all()
        rows = [
            {
                "guild_id": guild_id,
                "user_id": user_id,
                "job_id": reservation.job_id,
                "kind": LedgerKind.RESET,
                "delta": -reservation.delta,
                "counts_at": reservation.counts_at,
                "created_at": at,
            }
            for reservation in reservations
        ]
        if rows:
            await self.session.execute(insert(LedgerEntry), rows)
        return sum(-reservation.delta for reservation in reservations)

    async def reserve(self, jobs: Iterable[Job], at: datetime) -> None:
        """Charge each job's cost to its requester, in one round trip (a bulk insert, no ORM objects)."""
        rows = [
            {
                "guild_id": job.guild_id,
                "user_id": job.user_id,
                "job_id": job.id,
                "kind": LedgerKind.RESERVE,
                "delta": -job.cost,
                "counts_at": at,
                "created_at": at,
            }
            for job in jobs
        ]
        if rows:
            await self.session.execute(insert(LedgerEntry), rows)

    async def refund(self, job_id: int, at: datetime) -> int:
        """Give back what `job_id` reserved, counted in the reservation's window. Returns the credits refunded.

        The caller refunds only after winning the job's state change; the unique
        (job_id, kind) constraint stops a second refund even if that guard were bypassed.
        A job a moderator's reset already gave back is refunded nothing: the member's lock,
        taken here as reset takes it, keeps the two from both giving it back.
        """
        reservation = (
            await self.session.scalars(
                select(LedgerEntry).where(LedgerEntry.job_id == job_id, LedgerEntry.kind == LedgerKind.RESERVE)
            )
        ).one_or_none()
        if reservation is None:
            return 0
        await MemberRepository(self.session).lock(reservation.guild_id, reservation.user_id)
        reset = await self.session.scalar(
            select(LedgerEntry.id).where(LedgerEntry.job_id == job_id, LedgerEntry.kind == LedgerKind.RESET)
        )
        if reset is not None:
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


def _given_back() -> Select[int]:
    """The refund or reset of the outer query's reservation (correlated on its job_id)."""
    other = aliased(LedgerEntry)
    return select(other.id).where(
        other.job_id == LedgerEntry.job_id, other.kind.in_((LedgerKind.REFUND, LedgerKind.RESET))
    )


def _in_windows(since: Mapping[int, datetime], members: Collection[tuple[int, int]]) -> ColumnElement[bool]:
    """Rows of these members that count at or after their server's window start."""
    return or_(
        *(
            and_(
                LedgerEntry.guild_id == guild_id,
                LedgerEntry.user_id.in_([user_id for member_guild, user_id in members if member_guild == guild_id]),
                LedgerEntry.counts_at >= start,
            )
            for guild_id, start in since.items()
        )
    )
