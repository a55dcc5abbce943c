"""A server's settings (its quota, its moderator role, whether its queue is paused): one row per server, created on
its first change. Pausing and resuming are conditional UPDATEs, so each happens once whatever races."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuildSettings


class GuildSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def of_guilds(self, guild_ids: Collection[int]) -> dict[int, GuildSettings]:
        query = select(GuildSettings).where(GuildSettings.guild_id.in_(tuple(guild_ids)))
        return {settings.guild_id: settings for settings in (await self.session.scalars(query)).all()}

    async def get_or_create(self, guild_id: int) -> GuildSettings:
        """For a change: the server's row, added to the transaction if it had none."""
        settings = await self.get(guild_id)
        if settings is None:
            settings = GuildSettings(guild_id=guild_id)
            self.session.add(settings)
            await self.session.flush()
        return settings

    async def paused_of(self, guild_ids: Collection[int]) -> frozenset[int]:
        """Which of these servers have their queue paused."""
        query = select(GuildSettings.guild_id).where(
            GuildSettings.guild_id.in_(tuple(guild_ids)), GuildSettings.queue_paused.is_(True)
        )
        return frozenset((await self.session.scalars(query)).all())

    async def set_paused(self, guild_id: int, *, paused: bool) -> bool:
        """Pause or resume the server's queue; True if this call changed it (False: it already was)."""
        await self.get_or_create(guild_id)
        result = await self.session.execute(
            update(GuildSettings)
            .where(GuildSettings.guild_id == guild_id, GuildSettings.queue_paused.is_(not paused))
            .values(queue_paused=paused)
        )
        return bool(getattr(result, "rowcount", 0))
