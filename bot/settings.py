"""Settings from the environment and `.env` (the environment wins), grouped per section.

Every problem is reported as one line naming the setting, so `python -m bot` can
stop with a clear message instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

from db.database import checked_database_url, database_url_secrets
from model.catalogue import PresetsFileError, load_catalogue
from model.presets import DEFAULT_PRESET_ID, Preset
from model.speed import SpeedOptions, parse_cache, parse_offload, parse_switch

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"
DEVICES = ("auto", "cuda", "cpu")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """One setting is missing or malformed; the message names it."""


DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: str
    guild_id: int | None
    api_url: str
    gateway_url: str

    def __repr__(self) -> str:  # the token must never reach a log line, even through a repr
        return f"DiscordSettings(token='***', guild_id={self.guild_id}, api_url={self.api_url!r})"


@dataclass(frozen=True, slots=True)
class StorageSettings:
    database_url: str
    data_dir: Path

    @property
    def url_secrets(self) -> tuple[str, ...]:
        """A database password in DATABASE_URL: kept out of the logs like the token."""
        return database_url_secrets(self.database_url)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


@dataclass(frozen=True, slots=True)
class VideoSettings:
    model: str
    device: str
    presets_file: Path | None
    presets: Mapping[str, Preset]
    """The built-in presets merged with presets_file's."""
    speed: SpeedOptions


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    daily_credits: int
    max_active_jobs: int
    cooldown_seconds: int


@dataclass(frozen=True, slots=True)
class Settings:
    discord: DiscordSettings
    storage: StorageSettings
    video: VideoSettings
    quota: QuotaSettings
    log_level: str


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")) -> Settings:
    values = _merged(environ if environ is not None else os.environ, dotenv_path)

    return Settings(
        discord=DiscordSettings(
            token=_required(values, "DISCORD_TOKEN"),
            guild_id=_optional(values, "DISCORD_GUILD_ID", None, _snowflake),
            api_url=_optional(values, "DISCORD_API_URL", DISCORD_API_URL, _url(("http", "https"))),
            gateway_url=_optional(values, "DISCORD_GATEWAY_URL", DISCORD_GATEWAY_URL, _url(("ws", "wss"))),
        ),
        storage=StorageSettings(
            database_url=_optional(values, "DATABASE_URL", DEFAULT_DATABASE_URL, checked_database_url),
            data_dir=Path(_optional(values, "DATA_DIR", "data", str)),
        ),
        video=_video_settings(values),
        quota=QuotaSettings(
            daily_credits=_optional(values, "QUOTA_DAILY_CREDITS", 10, _whole_number),
            max_active_jobs=_optional(values, "QUOTA_MAX_ACTIVE_JOBS", 2, _positive_number),
            cooldown_seconds=_optional(values, "QUOTA_COOLDOWN_SECONDS", 0, _whole_number),
        ),
        log_level=_optional(values, "LOG_LEVEL", "INFO", lambda raw: _one_of(LOG_LEVELS)(raw.upper())),
    )


def _video_settings(values: Mapping[str, str]) -> VideoSettings:
    presets_file = _optional(values, "VIDEO_PRESETS_FILE", None, Path)
    try:
        presets = load_catalogue(presets_file)
    except PresetsFileError as error:
        raise SettingsError(f"VIDEO_PRESETS_FILE: {error}") from None
    defaults = SpeedOptions()
    return VideoSettings(
        model=_optional(values, "VIDEO_MODEL", DEFAULT_PRESET_ID, _one_of(tuple(presets))),
        device=_optional(values, "VIDEO_DEVICE", "auto", _one_of(DEVICES)),
        presets_file=presets_file,
        presets=presets,
        speed=SpeedOptions(
            offload=_optional(values, "VIDEO_OFFLOAD", defaults.offload, parse_offload),
            vae_tiling=_optional(values, "VIDEO_VAE_TILING", defaults.vae_tiling, parse_switch),
            cache=_optional(values, "VIDEO_CACHE", defaults.cache, parse_cache),
            compile=_optional(values, "VIDEO_COMPILE", defaults.compile, parse_switch),
        ),
    )


def _merged(environ: Mapping[str, str], dotenv_path: Path | None) -> dict[str, str]:
    from_file = dotenv_values(dotenv_path) if dotenv_path is not None and dotenv_path.is_file() else {}
    merged = {key: value for key, value in from_file.items() if value is not None}
    merged.update(environ)
    return {key: value.strip() for key, value in merged.items()}


def _required(values: Mapping[str, str], name: str) -> str:
    raw = values.get(name, "")
    if not raw:
        raise SettingsError(f"{name} is not set: put it in the environment or in .env (see .env.example)")
    return raw


def _optional(values: Mapping[str, str], name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = values.get(name, "")
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as error:
        raise SettingsError(f"{name} {error}") from None


def _snowflake(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**64:
        raise ValueError(f"must be a Discord server id (digits only), got {raw!r}")
    return int(raw)


def _whole_number(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 1_000_000:
        raise ValueError(f"must be a whole number from 0 to 1000000, got {raw!r}")
    return int(raw)


def _positive_number(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        raise ValueError(f"must be a whole number from 1 to 1000000, got {raw!r}")
    return int(raw)


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        scheme, _, rest = raw.partition("://")
        if scheme not in schemes or not rest:
            raise ValueError(f"must be a {' or '.join(schemes)} URL, got {raw!r}")
        return raw.rstrip("/")

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {raw!r}")
        return raw

    return parse

