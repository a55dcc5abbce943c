"""What the web gallery reads when it runs on its own (`python -m gallery`): the bot's database and DATA_DIR, and
where to listen. No Discord token: the web process never talks to Discord."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settings.database import DatabaseSettings
from settings.environment import DOTENV, Environment
from settings.sections import GallerySettings, LogSettings, MediaSettings


@dataclass(frozen=True, slots=True)
class WebSettings:
    database: DatabaseSettings
    media: MediaSettings
    gallery: GallerySettings
    log: LogSettings

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.database.secrets


def load_web_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = DOTENV) -> WebSettings:
    """Raises SettingsError naming the first bad setting."""
    env = Environment.read(environ, dotenv_path)
    return WebSettings(
        database=DatabaseSettings.load(env),
        media=MediaSettings.load(env),
        gallery=GallerySettings.load(env),
        log=LogSettings.load(env),
    )
