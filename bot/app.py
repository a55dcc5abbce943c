"""Wires the bot together: settings in, a running bot out. `python -m bot` and the tests start it here."""

from __future__ import annotations

import asyncio
import signal

import discord
import yarl

from bot.client import VideoBot
from bot.settings import Settings
from db.database import Database
from jobs.clock import SystemClock
from jobs.moderation import ModerationService
from jobs.quota import QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.service import VideoService
from model.contract import RenderBackend
from model.local_backend import LocalWorkerBackend, WorkerConfig


def point_discord_py_at(settings: Settings) -> None:
    """discord.py builds every REST and webhook URL from Route.BASE, and connects to DEFAULT_GATEWAY."""
    discord.http.Route.BASE = settings.discord.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def local_backend(settings: Settings) -> LocalWorkerBackend:
    return LocalWorkerBackend(
        WorkerConfig(
            preset_ids=(settings.video.model,),
            device=settings.video.device,
            media_dir=str(settings.storage.media_dir),
            presets_file=str(settings.video.presets_file) if settings.video.presets_file else None,
            presets=settings.video.presets,
            speed=settings.video.speed,
            log_level=settings.log_level,
        )
    )


def quota_defaults(settings: Settings) -> QuotaDefaults:
    return QuotaDefaults(
        credits=settings.quota.daily_credits,
        max_active_jobs=settings.quota.max_active_jobs,
        cooldown_seconds=settings.quota.cooldown_seconds,
    )


async def run_bot(settings: Settings, backend: RenderBackend | None = None) -> None:
    """Migrate the database, log in, serve until closed. Raises discord.LoginFailure for a bad token."""
    point_discord_py_at(settings)
    settings.storage.media_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.storage.database_url)
    try:
        await database.migrate()
        clock = SystemClock()
        quota = QuotaPolicy(database=database, defaults=quota_defaults(settings), clock=clock)
        service = VideoService(
            database=database,
            backend=backend or local_backend(settings),
            quota=quota,
            clock=clock,
            presets=settings.video.presets,
            default_preset_id=settings.video.model,
        )
        moderation = ModerationService(database=database, policy=quota, clock=clock)
        async with VideoBot(video_service=service, moderation=moderation, guild_id=settings.discord.guild_id) as bot:
            # `docker stop` sends SIGTERM: close cleanly so the worker and the database shut down too.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
            await bot.start(settings.discord.token)
    finally:
        await database.dispose()
