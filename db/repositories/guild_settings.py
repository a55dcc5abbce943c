"""A server's quota settings: one row per server, created on its first change."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
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
