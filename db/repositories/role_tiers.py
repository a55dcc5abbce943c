"""What a role gives its members: a tier (their allowance) and a priority (their weight in the fair order).

A role without a priority row weighs DEFAULT_WEIGHT: setting that weight removes the row."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RolePriority, RoleTier

DEFAULT_WEIGHT = 1


class RoleTierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, guild_id: int, role_id: int) -> RoleTier | None:
        return await self.session.get(RoleTier, (guild_id, role_id))

    async def of_roles(self, guild_ids: Collection[int], role_ids: Collection[int]) -> Sequence[RoleTier]:
        """The tiers of any of these roles in any of these servers (role ids are unique across servers)."""
        if not role_ids:
            return ()
        query = select(RoleTier).where(RoleTier.guild_id.in_(tuple(guild_ids)), RoleTier.role_id.in_(tuple(role_ids)))
        return (await self.session.scalars(query)).all()

    async def put(self, guild_id: int, role_id: int, *, credits: int, unlimited: bool) -> None:
        tier = await self.get(guild_id, role_id)
        if tier is None:
            self.session.add(RoleTier(guild_id=guild_id, role_id=role_id, credits=credits, unlimited=unlimited))
        else:
            tier.credits, tier.unlimited = credits, unlimited
        await self.session.flush()

    async def remove(self, guild_id: int, role_id: int) -> None:
        tier = await self.get(guild_id, role_id)
        if tier is not None:
            await self.session.delete(tier)
            await self.session.flush()


class RolePriorityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def weight(self, guild_id: int, role_id: int) -> int:
        priority = await self.session.get(RolePriority, (guild_id, role_id))
        return DEFAULT_WEIGHT if priority is None else priority.weight

    async def of_roles(self, guild_ids: Collection[int], role_ids: Collection[int]) -> dict[tuple[int, int], int]:
        """The weights of any of these roles in any of these servers that have one, by (guild_id, role_id)."""
        if not role_ids:
            return {}
        query = select(RolePriority).where(
            RolePriority.guild_id.in_(tuple(guild_ids)), RolePriority.role_id.in_(tuple(role_ids))
        )
        return {(row.guild_id, row.role_id): row.weight for row in (await self.session.scalars(query)).all()}

    async def put(self, guild_id: int, role_id: int, weight: int) -> None:
        priority = await self.session.get(RolePriority, (guild_id, role_id))
        if weight == DEFAULT_WEIGHT:
            if priority is not None:
                await self.session.delete(priority)
        elif priority is None:
            self.session.add(RolePriority(guild_id=guild_id, role_id=role_id, weight=weight))
        else:
            priority.weight = weight
        await self.session.flush()
