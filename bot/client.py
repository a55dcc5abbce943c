"""The discord.py client: loads the extensions, syncs the commands, starts the job service."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.mentions import NOBODY
from bot.publisher import DiscordPublisher
from jobs.moderation import ModerationService
from jobs.service import VideoService

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.exts.video", "bot.exts.quota", "bot.exts.mod")


class VideoBot(commands.Bot):
    def __init__(
        self,
        *,
        video_service: VideoService,
        moderation: ModerationService,
        guild_id: int | None,
        **options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,  # slash commands only; no message content intent
            intents=discord.Intents(guilds=True),  # no privileged intents needed
            allowed_mentions=NOBODY,  # the default for every message; posts name their one ping
            help_command=None,
            **options,
        )
        self.video_service = video_service
        self.moderation = moderation
        self.publisher = DiscordPublisher(self)
        self.sync_guild_id = guild_id

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self._sync_commands()
        await self.video_service.start(self.publisher)

    async def _sync_commands(self) -> None:
        if self.sync_guild_id is None:
            synced = await self.tree.sync()
            log.info("synced %d command(s) globally (Discord may take a while to show them)", len(synced))
            return
        guild = discord.Object(self.sync_guild_id)
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d command(s) to server %s", len(synced), self.sync_guild_id)

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("logged in as %s (%s) in %d server(s)", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        await self.video_service.close()
        await super().close()
