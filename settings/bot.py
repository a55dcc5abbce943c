"""Everything the bot reads at start, loaded in one go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settings.database import DatabaseSettings
from settings.environment import DOTENV, Environment
from settings.sections import (
    DiscordSettings,
    GallerySettings,
    LogSettings,
    MediaSettings,
    QueueSettings,
    QuotaSettings,
    VideoSettings,
)


@dataclass(frozen=True, slots=True)
class BotSettings:
    discord: DiscordSettings
    database: DatabaseSettings
    media: MediaSettings
    video: VideoSettings
    quota: QuotaSettings
    queue: QueueSettings
    gallery: GallerySettings
    log: LogSettings

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no log line may show."""
        return (self.discord.token, *self.database.secrets, *self.queue.secrets)


def load_bot_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = DOTENV) -> BotSettings:
    """Raises SettingsError naming the first bad setting."""
    env = Environment.read(environ, dotenv_path)
    return BotSettings(
        discord=DiscordSettings.load(env),
        database=DatabaseSettings.load(env),
        media=MediaSettings.load(env),
        video=VideoSettings.load(env),
        quota=QuotaSettings.load(env),
        queue=QueueSettings.load(env),
        gallery=GallerySettings.load(env),
        log=LogSettings.load(env),
    )
