from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_with_only_a_token(tmp_path: Path) -> None:
    settings = load_settings({"DISCORD_TOKEN": "abc"}, dotenv_path=tmp_path / "missing.env")
    assert settings.discord.token == "abc"
    assert settings.discord.guild_id is None
    assert settings.storage.database_url == DEFAULT_DATABASE_URL
    assert settings.storage.data_dir == Path("data")
    assert settings.video.model == "wan-1.3b"
    assert settings.video.device == "auto"
    assert settings.quota.daily_credits == 10
    assert settings.log_level == "INFO"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=from-file\nQUOTA_DAILY_CREDITS=3\nVIDEO_MODEL=tiny\n")
    settings = load_settings({"QUOTA_DAILY_CREDITS": "7"}, dotenv_path=dotenv)
    assert settings.discord.token == "from-file"
    assert settings.quota.daily_credits == 7
    assert settings.video.model == "tiny"


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
        ({"DISCORD_TOKEN": "t", "DISCORD_GUILD_ID": "my server"}, "DISCORD_GUILD_ID"),
        ({"DISCORD_TOKEN": "t", "VIDEO_MODEL": "sora"}, "VIDEO_MODEL"),
        ({"DISCORD_TOKEN": "t", "VIDEO_DEVICE": "tpu"}, "VIDEO_DEVICE"),
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
