"""The settings sections a process may need, each loaded from an Environment on its own.

Free of SQLAlchemy, Discord and torch, so the model's command line and a remote GPU worker can
load the video and media sections without the bot's dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from common.gallery_paths import host_and_port
from model.catalogue import PresetsFileError, load_catalogue
from model.presets import DEFAULT_PRESET_ID, Preset
from model.speed import DeviceSetting, SpeedOptions, parse_cache, parse_device, parse_offload, parse_switch
from settings.environment import Environment, SettingsError, one_of, snowflake, url, whole_number

DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_QUOTA_SETTING = 1_000_000
DEFAULT_DAILY_CREDITS = 80
"""Ten of wan-1.3b's default clips a day (8 credits each); presets cost by the GPU work they take."""


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: str
    guild_id: int | None
    api_url: str
    gateway_url: str

    def __repr__(self) -> str:  # the token must never reach a log line, even through a repr
        return f"DiscordSettings(token='***', guild_id={self.guild_id}, api_url={self.api_url!r})"

    @classmethod
    def load(cls, env: Environment) -> DiscordSettings:
        return cls(
            token=env.required("DISCORD_TOKEN"),
            guild_id=env.optional("DISCORD_GUILD_ID", None, snowflake),
            api_url=env.optional("DISCORD_API_URL", DISCORD_API_URL, url(("http", "https"))),
            gateway_url=env.optional("DISCORD_GATEWAY_URL", DISCORD_GATEWAY_URL, url(("ws", "wss"))),
        )


@dataclass(frozen=True, slots=True)
class MediaSettings:
    data_dir: Path
    """Absolute, resolved once: files are stored by keys relative to it ("media/12.mp4")."""

    @classmethod
    def load(cls, env: Environment) -> MediaSettings:
        return cls(data_dir=Path(env.optional("DATA_DIR", "data", str)).resolve())


@dataclass(frozen=True, slots=True)
class VideoSettings:
    models: tuple[str, ...]
    """The preset ids this deployment serves (VIDEO_MODEL, comma-separated), each once: at least one, the default
    first. One local worker serves them all on one GPU, one pipeline loaded at a time."""
    device: DeviceSetting
    presets_file: Path | None
    presets: Mapping[str, Preset]
    """The built-in presets merged with presets_file's."""
    speed: SpeedOptions

    @property
    def model(self) -> str:
        """The default preset's id: what /video renders when no preset is chosen (the first of VIDEO_MODEL)."""
        return self.models[0]

    @property
    def preset(self) -> Preset:
        """The default preset."""
        return self.presets[self.model]

    @property
    def served_presets(self) -> tuple[Preset, ...]:
        """Every preset this deployment serves, the default first."""
        return tuple(self.presets[preset_id] for preset_id in self.models)

    @classmethod
    def load(cls, env: Environment) -> VideoSettings:
        presets_file = env.optional("VIDEO_PRESETS_FILE", None, Path)
        try:
            presets = load_catalogue(presets_file)
        except PresetsFileError as error:
            raise SettingsError(f"VIDEO_PRESETS_FILE: {error}") from None
        defaults = SpeedOptions()
        offload = env.optional("VIDEO_OFFLOAD", defaults.offload, parse_offload)
        vae_tiling = env.optional("VIDEO_VAE_TILING", defaults.vae_tiling, parse_switch)
        cache = env.optional("VIDEO_CACHE", defaults.cache, parse_cache)
        compile_blocks = env.optional("VIDEO_COMPILE", defaults.compile, parse_switch)
        try:
            speed = SpeedOptions(offload=offload, vae_tiling=vae_tiling, cache=cache, compile=compile_blocks)
        except ValueError as error:  # a combination that cannot work: the message names both settings
            raise SettingsError(str(error)) from None
        return cls(
            models=env.optional("VIDEO_MODEL", (DEFAULT_PRESET_ID,), _preset_ids(tuple(presets))),
            device=env.optional("VIDEO_DEVICE", "auto", parse_device),
            presets_file=presets_file,
            presets=presets,
            speed=speed,
        )


def _preset_ids(choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A comma-separated list of preset ids from choices, each named once ("wan-1.3b,ltx")."""

    def parse(raw: str) -> tuple[str, ...]:
        ids = tuple(part.strip() for part in raw.split(","))
        for index, preset_id in enumerate(ids):
            if preset_id not in choices:
                raise ValueError(f"must list preset ids, comma-separated, from {', '.join(choices)}; got {preset_id!r}")
            if preset_id in ids[:index]:
                raise ValueError(f"names {preset_id} twice; list each preset once")
        return ids

    return parse


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    daily_credits: int
    max_active_jobs: int
    cooldown_seconds: int

    @classmethod
    def load(cls, env: Environment) -> QuotaSettings:
        return cls(
            daily_credits=env.optional(
                "QUOTA_DAILY_CREDITS", DEFAULT_DAILY_CREDITS, whole_number(0, MAX_QUOTA_SETTING)
            ),
            max_active_jobs=env.optional("QUOTA_MAX_ACTIVE_JOBS", 2, whole_number(1, MAX_QUOTA_SETTING)),
            cooldown_seconds=env.optional("QUOTA_COOLDOWN_SECONDS", 0, whole_number(0, MAX_QUOTA_SETTING)),
        )


MAX_QUEUE_ATTEMPTS = 10
REDIS_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class QueueSettings:
    max_attempts: int
    """How many times a job may be handed to the video model; a job whose render killed the worker (or the
    whole bot) that many times is failed and refunded, never re-queued forever."""
    url: str | None
    """QUEUE_URL: the Redis that carries jobs to GPU workers (arq); None renders in a local worker process."""
    announce_seconds: int
    """How often a GPU worker tells Redis it lives; one silent for three of these is given up for dead."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """A password in QUEUE_URL: kept out of the logs like the token."""
        password = urlsplit(self.url).password if self.url else None
        return (unquote(password), password) if password else ()

    def __repr__(self) -> str:  # QUEUE_URL may hold a password
        shown = None if self.url is None else f"{self.url.partition('://')[0]}://***"
        return f"QueueSettings(max_attempts={self.max_attempts}, url={shown!r}, announce={self.announce_seconds})"

    @classmethod
    def load(cls, env: Environment) -> QueueSettings:
        return cls(
            max_attempts=env.optional("QUEUE_MAX_ATTEMPTS", 2, whole_number(1, MAX_QUEUE_ATTEMPTS)),
            url=env.optional("QUEUE_URL", None, redis_url),
            announce_seconds=env.optional("QUEUE_WORKER_ANNOUNCE_SECONDS", 5, whole_number(1, 60)),
        )


def redis_url(raw: str) -> str:
    """A Redis URL; the error never repeats it, since it may carry a password."""
    scheme, _, rest = raw.partition("://")
    if scheme not in REDIS_SCHEMES or not rest:
        raise ValueError(f"must be a Redis URL such as redis://localhost:6379/0 ({', '.join(REDIS_SCHEMES)})")
    return raw


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


@dataclass(frozen=True, slots=True)
class GallerySettings:
    host: str
    """The address the web gallery listens on; 127.0.0.1 keeps it to this machine (a reverse proxy in front)."""
    port: int
    """Its port; 0 turns the web gallery off in this process."""
    public_url: str | None
    """GALLERY_PUBLIC_URL: where members reach it (behind a proxy, say), for the links the bot posts."""

    @property
    def link_base(self) -> str | None:
        """What the bot's links start with: the public URL, else this process's own address; None when there is
        no web gallery to link to."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        if self.port == 0:
            return None
        host = "127.0.0.1" if self.host.strip("[]") in WILDCARD_HOSTS else self.host
        return f"http://{host_and_port(host, self.port)}"

    @classmethod
    def load(cls, env: Environment) -> GallerySettings:
        return cls(
            host=env.optional("GALLERY_HOST", "127.0.0.1", str).strip(),
            port=env.optional("GALLERY_PORT", 8080, whole_number(0, 65535)),
            public_url=env.optional("GALLERY_PUBLIC_URL", None, site_url),
        )


def site_url(raw: str) -> str:
    """A site's address, http or https, with nothing after the host but a slash: the gallery's pages link from the
    root of it, so a path, a query or a fragment would break every link (and a password has no business in one)."""
    address = url(("http", "https"))(raw)
    parts = urlsplit(address)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        # Not repeated: a user:password@ part would reach the log.
        raise ValueError("must be a site's address with no path, query or user, such as https://gallery.example.org")
    if not parts.hostname or any(character.isspace() for character in parts.netloc):
        raise ValueError("must name a host, such as https://gallery.example.org")
    return address


@dataclass(frozen=True, slots=True)
class LogSettings:
    level: str

    @classmethod
    def load(cls, env: Environment) -> LogSettings:
        return cls(level=env.optional("LOG_LEVEL", "INFO", lambda raw: one_of(LOG_LEVELS)(raw.upper())))
