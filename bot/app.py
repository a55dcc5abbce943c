"""Wires the bot together: settings in, a running bot out. `python -m bot` and the tests start it here."""

from __future__ import annotations

import asyncio
import signal

import discord
import yarl

from bot.client import VideoBot
from db.database import Database
from gallery.server import GalleryPortUnavailable as GalleryPortUnavailable  # raised by run_bot, for bot.__main__
from gallery.server import GalleryServer
from jobs.admission import JobAdmission
from jobs.clock import SystemClock
from jobs.estimates import JobEstimates
from jobs.gallery import GalleryService
from jobs.lease import InstanceLease, LeaseLost
from jobs.media import MediaFiles
from jobs.moderation import ModerationService
from jobs.queue_control import QueueControl
from jobs.quota import QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.runner import JobRunner
from jobs.server_rules import ServerRulesService
from model.contract import RenderBackend
from model.distributed.backend import ArqBackend
from model.local_backend import LocalWorkerBackend, WorkerConfig
from settings.bot import BotSettings


def point_discord_py_at(settings: BotSettings) -> None:
    """discord.py builds every REST and webhook URL from Route.BASE, and connects to DEFAULT_GATEWAY."""
    discord.http.Route.BASE = settings.discord.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def local_backend(settings: BotSettings) -> LocalWorkerBackend:
    return LocalWorkerBackend(
        WorkerConfig(
            presets=settings.video.served_presets,  # the default first: the one the worker loads at start
            data_dir=str(settings.media.data_dir),
            device=settings.video.device,
            speed=settings.video.speed,
            log_level=settings.log.level,
        )
    )


def render_backend(settings: BotSettings) -> RenderBackend:
    """GPU workers through arq and Redis when QUEUE_URL is set, else one local worker process."""
    if settings.queue.url is None:
        return local_backend(settings)
    return ArqBackend(
        settings.queue.url, data_dir=settings.media.data_dir, announce_seconds=settings.queue.announce_seconds
    )


def quota_defaults(settings: BotSettings) -> QuotaDefaults:
    return QuotaDefaults(
        credits=settings.quota.daily_credits,
        max_active_jobs=settings.quota.max_active_jobs,
        cooldown_seconds=settings.quota.cooldown_seconds,
    )


def web_gallery(settings: BotSettings, gallery: GalleryService, media: MediaFiles) -> GalleryServer | None:
    """The web gallery this process serves, unless GALLERY_PORT is 0 (off, or `python -m gallery` serves it)."""
    if settings.gallery.port == 0:
        return None
    return GalleryServer(gallery, media, settings.gallery.host, settings.gallery.port)


async def serve(bot: VideoBot, runner: JobRunner, lease: InstanceLease, token: str) -> None:
    """Log in and serve until closed: by SIGTERM, when another process takes the lease, or when the render backend
    cannot start (raised here: model.local_backend.WorkerStartError)."""
    # `docker stop` sends SIGTERM: close cleanly so the worker and the database shut down too.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))

    def stand_down() -> asyncio.Future[None]:
        runner.stand_down()  # another process serves the database now: close without writing to it
        return asyncio.ensure_future(bot.close())

    keeper = asyncio.create_task(lease.keep(on_lost=stand_down))
    try:
        await bot.start(token)
    finally:
        keeper.cancel()
    if bot.start_failure is not None:  # the model could not load: the bot stopped for it
        raise bot.start_failure


async def run_bot(settings: BotSettings, backend: RenderBackend | None = None) -> None:
    """Migrate the database, take its lease, start the web gallery, log in, serve until closed.

    Raises discord.LoginFailure for a bad token, jobs.lease.LeaseHeld when another bot process serves the
    database (after waiting out its lease once), LeaseLost when another one took it over meanwhile,
    GalleryPortUnavailable when the web gallery's port is taken, model.local_backend.WorkerStartError when the
    video model cannot load at all (after logging in: the bot answers while it loads, and a load that may pass is
    tried again).
    """
    point_discord_py_at(settings)
    database = Database(settings.database.url)
    lease: InstanceLease | None = None
    try:
        await database.migrate()
        clock = SystemClock()
        # Before the runner exists: only the lease holder recovers, dispatches and posts.
        lease = InstanceLease(database, clock=clock)
        await lease.acquire()
        backend = backend or render_backend(settings)
        media = MediaFiles(settings.media.data_dir)
        runner = JobRunner(
            database=database,
            backend=backend,
            clock=clock,
            media=media,
            max_attempts=settings.queue.max_attempts,
        )
        quota = QuotaPolicy(database=database, defaults=quota_defaults(settings), clock=clock)
        admission = JobAdmission(
            database=database,
            quota=quota,
            clock=clock,
            presets=settings.video.presets,
            served=lambda: backend.serves,
            default_preset_id=settings.video.model,
            on_queued=runner.wake,
            start_failed=lambda: runner.start_failed,
        )
        moderation = ModerationService(database=database, policy=quota, clock=clock)
        queue_control = QueueControl(database=database, clock=clock, on_resumed=runner.wake)
        server_rules = ServerRulesService(
            database=database, clock=clock, presets=settings.video.presets, on_changed=admission.rules.forget
        )
        gallery = GalleryService(database=database, media=media, clock=clock)
        web = web_gallery(settings, gallery, media)
        if web is not None:
            await web.start()  # GalleryPortUnavailable when the port is taken: the bot does not start
        try:
            async with VideoBot(
                admission=admission,
                runner=runner,
                moderation=moderation,
                queue_control=queue_control,
                server_rules=server_rules,
                media=media,
                estimates=JobEstimates(database, clock, parallel_renders=lambda: backend.renders_at_once),
                gallery=gallery,
                gallery_links=settings.gallery.link_base,
                guild_id=settings.discord.guild_id,
            ) as bot:
                await serve(bot, runner, lease, settings.discord.token)
        finally:
            if web is not None:
                await web.close()
        if lease.lost:
            raise LeaseLost()
    finally:
        if lease is not None and not lease.lost:
            await lease.release()
        await database.dispose()
