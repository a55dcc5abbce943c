from __future__ import annotations

from pathlib import Path

import pytest

from model.presets import PRESETS
from model.speed import FirstBlockCache, SpeedOptions
from settings.bot import load_bot_settings as load_settings
from settings.database import DEFAULT_DATABASE_URL
from settings.environment import SettingsError


def test_defaults_with_only_a_token(tmp_path: Path) -> None:
    settings = load_settings({"DISCORD_TOKEN": "abc"}, dotenv_path=tmp_path / "missing.env")
    assert settings.discord.token == "abc"
    assert settings.discord.guild_id is None
    assert settings.database.url == DEFAULT_DATABASE_URL
    assert settings.media.data_dir == Path("data").resolve()
    assert settings.video.model == "wan-1.3b" and settings.video.models == ("wan-1.3b",)
    assert settings.video.device == "auto"
    assert settings.video.presets_file is None and settings.video.presets is PRESETS
    assert settings.video.speed == SpeedOptions()
    assert settings.quota.daily_credits == 80  # ten of wan-1.3b's default clips
    assert (settings.quota.max_active_jobs, settings.quota.cooldown_seconds) == (2, 0)
    assert settings.queue.max_attempts == 2
    assert settings.log.level == "INFO"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=from-file\nQUOTA_DAILY_CREDITS=3\nVIDEO_MODEL=tiny\n")
    settings = load_settings({"QUOTA_DAILY_CREDITS": "7"}, dotenv_path=dotenv)
    assert settings.discord.token == "from-file"
    assert settings.quota.daily_credits == 7
    assert settings.video.model == "tiny"


def test_video_model_may_name_a_preset_from_the_presets_file(tmp_path: Path) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text('[my-wan]\nbase = "wan-1.3b"\nrepo = "me/my-wan"\n')
    environ = {"DISCORD_TOKEN": "t", "VIDEO_PRESETS_FILE": str(presets), "VIDEO_MODEL": "my-wan"}
    video = load_settings(environ, dotenv_path=None).video
    assert (video.model, video.presets_file) == ("my-wan", presets)
    assert video.presets["my-wan"].repo == "me/my-wan"


def test_video_model_may_list_several_presets_the_first_being_the_default(tmp_path: Path) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text('[my-wan]\nbase = "wan-1.3b"\nrepo = "me/my-wan"\n')
    environ = {"DISCORD_TOKEN": "t", "VIDEO_PRESETS_FILE": str(presets), "VIDEO_MODEL": " ltx, my-wan,tiny "}
    video = load_settings(environ, dotenv_path=None).video
    assert video.models == ("ltx", "my-wan", "tiny")
    assert (video.model, video.preset) == ("ltx", PRESETS["ltx"])
    assert [preset.id for preset in video.served_presets] == ["ltx", "my-wan", "tiny"]
    assert video.served_presets[1].repo == "me/my-wan"


def test_one_video_model_is_a_list_of_one() -> None:
    video = load_settings({"DISCORD_TOKEN": "t", "VIDEO_MODEL": "tiny"}, dotenv_path=None).video
    assert (video.models, video.served_presets) == (("tiny",), (PRESETS["tiny"],))


@pytest.mark.parametrize(
    ("listed", "complaint"),
    [
        ("tiny,ltx,tiny", "VIDEO_MODEL names tiny twice; list each preset once"),
        ("tiny,sora", "VIDEO_MODEL must list preset ids, comma-separated, from "),
        ("tiny,,ltx", "VIDEO_MODEL must list preset ids, comma-separated, from "),
        ("tiny;ltx", "VIDEO_MODEL must list preset ids, comma-separated, from "),
    ],
)
def test_a_bad_video_model_list_is_refused_in_one_line(listed: str, complaint: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"DISCORD_TOKEN": "t", "VIDEO_MODEL": listed}, dotenv_path=None)
    message = str(error.value)
    assert message.startswith(complaint) and "\n" not in message


def test_speed_settings(tmp_path: Path) -> None:
    environ = {
        "DISCORD_TOKEN": "t",
        "VIDEO_OFFLOAD": "group",
        "VIDEO_VAE_TILING": "off",
        "VIDEO_CACHE": "first-block:0.1",
        "VIDEO_COMPILE": "on",
    }
    speed = load_settings(environ, dotenv_path=None).video.speed
    assert speed == SpeedOptions("group", vae_tiling=False, cache=FirstBlockCache(0.1), compile=True)


def test_quota_limits(tmp_path: Path) -> None:
    environ = {"DISCORD_TOKEN": "t", "QUOTA_MAX_ACTIVE_JOBS": "5", "QUOTA_COOLDOWN_SECONDS": "30"}
    quota = load_settings(environ, dotenv_path=None).quota
    assert (quota.max_active_jobs, quota.cooldown_seconds) == (5, 30)


def test_queue_max_attempts() -> None:
    queue = load_settings({"DISCORD_TOKEN": "t", "QUEUE_MAX_ATTEMPTS": "5"}, dotenv_path=None).queue
    assert queue.max_attempts == 5


def test_token_never_shows_in_repr(tmp_path: Path) -> None:
    settings = load_settings({"DISCORD_TOKEN": "super-secret-token"}, dotenv_path=None)
    assert "super-secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "   "}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "t", "QUOTA_DAILY_CREDITS": "ten"}, "QUOTA_DAILY_CREDITS"),
        ({"DISCORD_TOKEN": "t", "QUOTA_DAILY_CREDITS": "-1"}, "QUOTA_DAILY_CREDITS"),
        ({"DISCORD_TOKEN": "t", "QUOTA_MAX_ACTIVE_JOBS": "0"}, "QUOTA_MAX_ACTIVE_JOBS"),
        ({"DISCORD_TOKEN": "t", "QUOTA_COOLDOWN_SECONDS": "1.5"}, "QUOTA_COOLDOWN_SECONDS"),
        ({"DISCORD_TOKEN": "t", "DISCORD_GUILD_ID": "my server"}, "DISCORD_GUILD_ID"),
        ({"DISCORD_TOKEN": "t", "VIDEO_MODEL": "sora"}, "VIDEO_MODEL"),
        ({"DISCORD_TOKEN": "t", "VIDEO_DEVICE": "tpu"}, "VIDEO_DEVICE"),
        ({"DISCORD_TOKEN": "t", "VIDEO_PRESETS_FILE": "/nowhere/presets.toml"}, "VIDEO_PRESETS_FILE"),
        ({"DISCORD_TOKEN": "t", "VIDEO_OFFLOAD": "disk"}, "VIDEO_OFFLOAD"),
        ({"DISCORD_TOKEN": "t", "VIDEO_VAE_TILING": "sometimes"}, "VIDEO_VAE_TILING"),
        ({"DISCORD_TOKEN": "t", "VIDEO_CACHE": "first-block:2"}, "VIDEO_CACHE"),
        ({"DISCORD_TOKEN": "t", "VIDEO_COMPILE": "max"}, "VIDEO_COMPILE"),
        ({"DISCORD_TOKEN": "t", "VIDEO_COMPILE": "on", "VIDEO_OFFLOAD": "sequential"}, "VIDEO_COMPILE=on"),
        ({"DISCORD_TOKEN": "t", "QUEUE_MAX_ATTEMPTS": "0"}, "QUEUE_MAX_ATTEMPTS"),
        ({"DISCORD_TOKEN": "t", "QUEUE_MAX_ATTEMPTS": "11"}, "QUEUE_MAX_ATTEMPTS"),
        ({"DISCORD_TOKEN": "t", "QUEUE_MAX_ATTEMPTS": "twice"}, "QUEUE_MAX_ATTEMPTS"),
        ({"DISCORD_TOKEN": "t", "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"DISCORD_TOKEN": "t", "DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DISCORD_TOKEN": "t", "DISCORD_API_URL": "ftp://x"}, "DISCORD_API_URL"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ, dotenv_path=None)
    message = str(error.value)
    assert message.startswith(named)
    assert "\n" not in message


def test_a_database_password_is_known_as_a_secret() -> None:
    url = "postgresql+asyncpg://bot:hunter2@db.example/bot"
    settings = load_settings({"DISCORD_TOKEN": "t", "DATABASE_URL": url}, dotenv_path=None)
    assert settings.database.secrets == ("hunter2",)
    assert "hunter2" not in repr(settings)
    assert load_settings({"DISCORD_TOKEN": "t"}, dotenv_path=None).database.secrets == ()


def test_data_dir_is_resolved_to_an_absolute_path_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": "./store/../media-root"}, dotenv_path=None)
    assert settings.media.data_dir == tmp_path.resolve() / "media-root"


def test_queue_url_chooses_the_distributed_mode_and_its_password_is_a_secret() -> None:
    assert load_settings({"DISCORD_TOKEN": "t"}, dotenv_path=None).queue.url is None  # the local worker
    url = "redis://:pa%40ss@redis.example:6380/2"
    settings = load_settings({"DISCORD_TOKEN": "t", "QUEUE_URL": url}, dotenv_path=None)
    assert settings.queue.url == url
    assert settings.queue.announce_seconds == 5
    assert set(settings.secrets) >= {"pa@ss", "pa%40ss"}
    assert "pa%40ss" not in repr(settings) and "pa@ss" not in repr(settings)


@pytest.mark.parametrize("url", ["http://:hunter2@redis.example", "hunter2", "redis://"])
def test_a_bad_queue_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"DISCORD_TOKEN": "t", "QUEUE_URL": url}, dotenv_path=None)
    assert str(error.value).startswith("QUEUE_URL must be a Redis URL")
    assert "hunter2" not in str(error.value)
