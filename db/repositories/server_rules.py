"""A server's safety settings as stored: its /video channels, its blocklist, its disabled presets, and the switches
and maxima on its guild_settings row. Every change is conditional (an UPDATE or DELETE that says whether it changed
anything, an INSERT after a look-up in the same write transaction), so each happens once whatever races."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BlockedTerm, DisabledPreset, GuildSettings, VideoChannel
from db.repositories.guild_settings import GuildSettingsRepository

Switch = Literal["default_blocklist", "sensitive_presets"]
Maximum = Literal["max_duration_seconds", "max_steps"]


@dataclass(frozen=True, slots=True)
class StoredRules:
    """Everything a server's rules hold, read together (in one snapshot, for /video)."""

    settings: GuildSettings | None
    channel_ids: Sequence[int]
    terms: Sequence[BlockedTerm]
    disabled_presets: Sequence[str]


class ServerRulesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, guild_id: int) -> StoredRules:
        settings = await GuildSettingsRepository(self.session).get(guild_id)
        channels = select(VideoChannel.channel_id).where(VideoChannel.guild_id == guild_id)
        terms = (
            select(BlockedTerm)
            .where(BlockedTerm.guild_id == guild_id)
            .order_by(BlockedTerm.created_at, BlockedTerm.key)
        )
        presets = select(DisabledPreset.preset_id).where(DisabledPreset.guild_id == guild_id)
        return StoredRules(
            settings,
            (await self.session.scalars(channels)).all(),
            (await self.session.scalars(terms)).all(),
            (await self.session.scalars(presets)).all(),
        )

    # -- /video's channels -------------------------------------------------------------

    async def count_channels(self, guild_id: int) -> int:
        query = select(func.count()).select_from(VideoChannel).where(VideoChannel.guild_id == guild_id)
        return int(await self.session.scalar(query) or 0)

    async def add_channel(self, guild_id: int, channel_id: int) -> bool:
        """True if the channel was not listed and now is."""
        if await self.session.get(VideoChannel, (guild_id, channel_id)) is not None:
            return False
        self.session.add(VideoChannel(guild_id=guild_id, channel_id=channel_id))
        await self.session.flush()
        return True

    async def remove_channel(self, guild_id: int, channel_id: int) -> bool:
        """True if the channel was listed and no longer is."""
        result = await self.session.execute(
            delete(VideoChannel).where(VideoChannel.guild_id == guild_id, VideoChannel.channel_id == channel_id)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- the blocklist -----------------------------------------------------------------

    async def count_terms(self, guild_id: int) -> int:
        query = select(func.count()).select_from(BlockedTerm).where(BlockedTerm.guild_id == guild_id)
        return int(await self.session.scalar(query) or 0)

    async def term(self, guild_id: int, key: str) -> BlockedTerm | None:
        return await self.session.get(BlockedTerm, (guild_id, key))

    async def put_term(self, guild_id: int, key: str, term: str, *, sensitive: bool, at: datetime) -> None:
        """Add the term, or change how the one with its key is written and refused."""
        stored = await self.term(guild_id, key)
        if stored is None:
            self.session.add(BlockedTerm(guild_id=guild_id, key=key, term=term, sensitive=sensitive, created_at=at))
        else:
            stored.term, stored.sensitive = term, sensitive
        await self.session.flush()

    async def remove_term(self, guild_id: int, key: str) -> bool:
        result = await self.session.execute(
            delete(BlockedTerm).where(BlockedTerm.guild_id == guild_id, BlockedTerm.key == key)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- presets -----------------------------------------------------------------------

    async def disable_preset(self, guild_id: int, preset_id: str) -> bool:
        """True if the preset was on in the server and now is off."""
        if await self.session.get(DisabledPreset, (guild_id, preset_id)) is not None:
            return False
        self.session.add(DisabledPreset(guild_id=guild_id, preset_id=preset_id))
        await self.session.flush()
        return True

    async def enable_preset(self, guild_id: int, preset_id: str) -> bool:
        """True if the preset was off in the server and now is on."""
        result = await self.session.execute(
            delete(DisabledPreset).where(DisabledPreset.guild_id == guild_id, DisabledPreset.preset_id == preset_id)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- switches and maxima on the server's settings row --------------------------------

    async def set_switch(self, guild_id: int, name: Switch, on: bool) -> bool:
        """Turn a switch on or off; True if this changed it."""
        await GuildSettingsRepository(self.session).get_or_create(guild_id)
        column = getattr(GuildSettings, name)
        result = await self.session.execute(
            update(GuildSettings).where(GuildSettings.guild_id == guild_id, column.is_(not on)).values({name: on})
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_maximum(self, guild_id: int, name: Maximum, value: int | None) -> tuple[bool, int | None]:
        """Set a maximum (None for none): whether this changed it, and what it was."""
        settings = await GuildSettingsRepository(self.session).get_or_create(guild_id)
        before: int | None = getattr(settings, name)
        column = getattr(GuildSettings, name)
        result = await self.session.execute(
            update(GuildSettings)
            .where(GuildSettings.guild_id == guild_id, column.is_distinct_from(value))
            .values({name: value})
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0)), before
