"""The web gallery's settings (GallerySettings): where it listens, the address the bot's links start with, and what
`python -m gallery` loads on its own (load_web_settings, no Discord token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings.bot import load_bot_settings
from settings.database import DEFAULT_DATABASE_URL
from settings.environment import SettingsError
from settings.web import load_web_settings


def test_defaults_listen_on_this_machine_only(tmp_path: Path) -> None:
    settings = load_web_settings({}, dotenv_path=tmp_path / "missing.env")
    gallery = settings.gallery
    assert (gallery.host, gallery.port, gallery.public_url) == ("127.0.0.1", 8080, None)
    assert gallery.link_base == "http://127.0.0.1:8080"
    assert settings.database.url == DEFAULT_DATABASE_URL
    assert settings.media.data_dir == Path("data").resolve()
    assert settings.log.level == "INFO"


def test_the_web_process_needs_no_discord_token_and_knows_the_database_password() -> None:
    url = "postgresql+asyncpg://bot:hunter2@db.example/bot"
    settings = load_web_settings({"DATABASE_URL": url}, dotenv_path=None)
    assert settings.secrets == ("hunter2",)
    assert "hunter2" not in repr(settings)


def test_the_bot_reads_the_same_gallery_settings() -> None:
    environ = {"GALLERY_HOST": "0.0.0.0", "GALLERY_PORT": "9000", "GALLERY_PUBLIC_URL": "https://gallery.example"}
    from_bot = load_bot_settings({"DISCORD_TOKEN": "t", **environ}, dotenv_path=None).gallery
    assert from_bot == load_web_settings(environ, dotenv_path=None).gallery
    assert (from_bot.host, from_bot.port) == ("0.0.0.0", 9000)


def test_dotenv_is_read_under_the_environment(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("GALLERY_PORT=9000\nGALLERY_HOST=10.0.0.5\n")
    gallery = load_web_settings({"GALLERY_PORT": "9100"}, dotenv_path=dotenv).gallery
    assert (gallery.host, gallery.port, gallery.link_base) == ("10.0.0.5", 9100, "http://10.0.0.5:9100")


def test_port_0_turns_the_web_gallery_off_and_leaves_nothing_to_link_to() -> None:
    gallery = load_web_settings({"GALLERY_PORT": "0"}, dotenv_path=None).gallery
    assert gallery.port == 0
    assert gallery.link_base is None


def test_a_public_url_is_linked_to_even_when_this_process_serves_no_gallery() -> None:
    environ = {"GALLERY_PORT": "0", "GALLERY_PUBLIC_URL": "https://gallery.example"}
    gallery = load_web_settings(environ, dotenv_path=None).gallery
    assert gallery.link_base == "https://gallery.example"


@pytest.mark.parametrize(
    ("public_url", "link_base"),
    [
        ("https://gallery.example/", "https://gallery.example"),
        ("https://gallery.example//", "https://gallery.example"),
        ("http://gallery.example:8000/", "http://gallery.example:8000"),
        ("  https://gallery.example/  ", "https://gallery.example"),
    ],
)
def test_the_public_url_wins_without_its_trailing_slash(public_url: str, link_base: str) -> None:
    environ = {"GALLERY_HOST": "0.0.0.0", "GALLERY_PORT": "9000", "GALLERY_PUBLIC_URL": public_url}
    gallery = load_web_settings(environ, dotenv_path=None).gallery
    assert gallery.public_url == gallery.link_base == link_base


@pytest.mark.parametrize(
    ("host", "link_base"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080"),  # every address: this machine's own is one of them
        ("::", "http://127.0.0.1:8080"),
        ("  ", "http://127.0.0.1:8080"),  # unset
        ("::1", "http://[::1]:8080"),
        ("fe80::1", "http://[fe80::1]:8080"),
        ("2001:db8::42", "http://[2001:db8::42]:8080"),
        ("10.0.0.5", "http://10.0.0.5:8080"),
        ("gallery.internal", "http://gallery.internal:8080"),
    ],
)
def test_without_a_public_url_links_go_to_the_address_it_listens_on(host: str, link_base: str) -> None:
    gallery = load_web_settings({"GALLERY_HOST": host}, dotenv_path=None).gallery
    assert gallery.link_base == link_base


@pytest.mark.parametrize("port", ["80a", "70000", "65536", "-1", "8080.0", "0x50", "eighty", "+80"])
def test_a_bad_port_is_named_in_one_line(port: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_web_settings({"GALLERY_PORT": port}, dotenv_path=None)
    message = str(error.value)
    assert message.startswith("GALLERY_PORT ") and "\n" not in message
    assert repr(port) in message


@pytest.mark.parametrize("port", ["1", "443", "65535"])
def test_every_port_up_to_65535_is_taken(port: str) -> None:
    assert load_web_settings({"GALLERY_PORT": port}, dotenv_path=None).gallery.port == int(port)


@pytest.mark.parametrize(
    "public_url",
    [
        "javascript:alert(1)",
        "javascript://alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://gallery.example",
        "gallery.example",
        "//gallery.example",
        "https://",
        "https:gallery.example",
        # The pages link from the site's root: anything after the host would break every link.
        "https://gallery.example/promptreel",
        "https://gallery.example/?page=1",
        "https://gallery.example/#top",
        "https://user:hunter2@gallery.example",
        "http://gallery example",
        "http://:8080",
    ],
)
def test_a_public_url_must_be_http_or_https(public_url: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_web_settings({"GALLERY_PUBLIC_URL": public_url}, dotenv_path=None)
    message = str(error.value)
    assert message.startswith("GALLERY_PUBLIC_URL ") and "\n" not in message
    assert "hunter2" not in message


def test_a_bad_gallery_setting_stops_the_bot_too() -> None:
    with pytest.raises(SettingsError) as error:
        load_bot_settings({"DISCORD_TOKEN": "t", "GALLERY_PORT": "70000"}, dotenv_path=None)
    assert str(error.value).startswith("GALLERY_PORT ")
