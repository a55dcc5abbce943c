"""The discord.py client: loads the extensions, syncs the commands, starts the job service and keeps the presence.

The job service starts in the background: the bot logs in and answers while the model loads (a load that fails for a
passing reason is tried again meanwhile), and a model that cannot load at all stops the bot (start_failure, raised by
bot.app.run_bot) once the runner has failed and refunded the jobs that waited for it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Unpack

import discord
from discord.ext import commands

from bot.cross_posts import CrossPoster
from bot.errors import AnsweringTree
from bot.mentions import NOBODY
from bot.presence import PRESENCE_EVERY, PresenceKeeper
from bot.publisher import DEFAULT_STATUS_TIMING, DiscordPublisher, StatusTiming
from bot.translator import CatalogueTranslator
from jobs.admission import JobAdmission
from jobs.estimates import JobEstimates
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.moderation import ModerationService
from jobs.queue_control import QueueControl
from jobs.runner import JobRunner
from jobs.server_rules import ServerRulesService

if TYPE_CHECKING:
    from discord.ext.commands.bot import _BotOptions

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.exts.video",
    "bot.exts.quota",
    "bot.exts.mod",
    "bot.exts.jobs",
    "bot.exts.queue",
    "bot.exts.gallery",
    "bot.exts.clips",
    "bot.exts.help",
    "bot.exts.settings",
)


class VideoBot(commands.Bot):
    def __init__(
        self,
        *,
        admission: JobAdmission,
        runner: JobRunner,
        moderation: ModerationService,
        queue_control: QueueControl,
        server_rules: ServerRulesService,
        media: MediaFiles,
        estimates: JobEstimates,
        gallery: GalleryService,
        gallery_links: str | None,
        guild_id: int | None,
        status_timing: StatusTiming = DEFAULT_STATUS_TIMING,
        presence_every: float = PRESENCE_EVERY,
        **options: Unpack[_BotOptions],
    ) -> None:
        options.setdefault("allowed_mentions", NOBODY)  # the default for every message; posts name their one ping
        super().__init__(
            command_prefix=commands.when_mentioned,  # slash commands only; no message content intent
            intents=discord.Intents(guilds=True),  # no privileged intents needed
            help_command=None,
            tree_cls=AnsweringTree,  # one error handler for every app command
            **options,
        )
        self.admission = admission
        self.runner = runner
        self.moderation = moderation
        self.queue_control = queue_control
        self.server_rules = server_rules
        self.gallery = gallery
        self.gallery_links = gallery_links
        """Where the web gallery's links start (GallerySettings.link_base); None when there is none to link to."""
        self.publisher = DiscordPublisher(
            self,
            media,
            estimates,
            CrossPoster(self, gallery, media),
            status_timing,
            model_loading=lambda: runner.model_loading,
        )
        self.sync_guild_id = guild_id
        self.presence = PresenceKeeper(
            self, model_loading=lambda: runner.model_loading, queue_length=queue_control.length, every=presence_every
        )
        self.start_failure: Exception | None = None
        """Why the render backend could not start (the model cannot load); run_bot raises it once the bot stopped."""
        self._start_watch: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.tree.set_translator(CatalogueTranslator())  # the synced commands carry every catalogue's words
        await self._sync_commands()
        # The model loads in the background (minutes on a first start): the bot logs in and answers meanwhile.
        self.runner.launch(self.publisher)
        self._start_watch = asyncio.create_task(self._stop_unless_started())
        self.publisher.start()
        self.presence.start()

    async def _stop_unless_started(self) -> None:
        """A render backend that cannot start stops the bot (started() raises once the jobs waiting for it are failed
        and refunded, their statuses told in their members' language); run_bot then raises why."""
        try:
            await self.runner.started()
        except Exception as error:
            self.start_failure = error
            await self.close()
            return
        self.presence.poke()  # the model is ready: say so without waiting for the next look

    async def _sync_commands(self) -> None:
        if self.sync_guild_id is None:
            synced = await self.tree.sync()
            log.info("synced %d command(s) globally (Discord may take a while to show them)", len(synced))
            return
        guild = discord.Object(self.sync_guild_id)
        # Guild commands show at once. The tree keeps the guild's copies, which dispatch its interactions.
        self.tree.copy_global_to(guild=guild)
        self.tree.clear_commands(guild=None)
        synced = await self.tree.sync(guild=guild)
        # Commands an earlier run synced globally would show twice in the server: remove them, now that the
        # server has its own. Looked up first, so that a clean application costs no write.
        stale = await self.tree.fetch_commands()
        if stale:
            await self.tree.sync()  # the tree holds no global commands now: this empties the global list
        log.info(
            "synced %d command(s) to server %s and removed %d global command(s)",
            len(synced),
            self.sync_guild_id,
            len(stale),
        )

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("logged in as %s (%s) in %d server(s)", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        await self.presence.close()
        await self.runner.close()
        await self.publisher.close()
        await super().close()
