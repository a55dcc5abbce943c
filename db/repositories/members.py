"""Members' quota rows: overrides, bans, the last submission, and the per-member admission lock."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import MemberQuota

MemberKey = tuple[int, int]  # (guild_id, user_id)


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, guild_id: int, user_id: int) -> MemberQuota | None:
        return await self.session.get(MemberQuota, (guild_id, user_id))

    async def lock(self, guild_id: int, user_id: int) -> MemberQuota:
        return (await self.lock_all([(guild_id, user_id)]))[(guild_id, user_id)]

    async def lock_all(self, keys: Collection[MemberKey]) -> dict[MemberKey, MemberQuota]:
        """The members' rows, created where missing, locked until the transaction ends.

        Everything that reads a member's balance and then writes to it holds this lock first,
        so two such transactions for one member run one after the other on every database:
        PostgreSQL and MySQL block on SELECT ... FOR UPDATE (and on the primary key while another
        transaction inserts the same member); rows are locked in key order, so two batches cannot
        deadlock. SQLite ignores FOR UPDATE, but its transactions here start with BEGIN IMMEDIATE,
        which already admits one writer at a time.
        """
        wanted = sorted(set(keys))
        rows = await self._select_for_update(wanted)
        missing = [key for key in wanted if key not in rows]
        if missing and not await self._created([missing]):
            await self._created([[key] for key in missing])  # one at a time, to learn which exist
        if missing:
            rows.update(await self._select_for_update(missing))
        return rows

    async def _created(self, groups: list[list[MemberKey]]) -> bool:
        """Insert each group of new members in a savepoint; False if any group was already there.

        A group fails when another transaction created one of its members first; the select
        that follows then waits for that transaction's lock.
        """
        all_created = True
        for group in groups:
            try:
                async with self.session.begin_nested():
                    self.session.add_all(MemberQuota(guild_id=guild_id, user_id=user_id) for guild_id, user_id in group)
            except IntegrityError:
                all_created = False
        return all_created

    async def _select_for_update(self, keys: list[MemberKey]) -> dict[MemberKey, MemberQuota]:
        query = (
            select(MemberQuota)
            .where(tuple_(MemberQuota.guild_id, MemberQuota.user_id).in_(keys))
            .order_by(MemberQuota.guild_id, MemberQuota.user_id)
            .with_for_update()
        )
        return {(row.guild_id, row.user_id): row for row in (await self.session.scalars(query)).all()}
