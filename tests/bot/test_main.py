"""`python -m bot` refuses to start on bad settings with one clear line and exit status 2."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import configure_logging
from tests.bot.bot_process import ROOT, BotProcess, bot_environment
from tests.fake_discord.server import FakeDiscord


def run_bot_once(environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60
    )


def test_missing_token_stops_with_one_line_and_status_2(tmp_path: Path) -> None:
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    run = run_bot_once(environment, tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "DISCORD_TOKEN" in run.stderr and "Traceback" not in run.stderr


def test_malformed_setting_in_dotenv_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x\nQUOTA_DAILY_CREDITS=lots\n")
    run = run_bot_once({"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}, tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("error: QUOTA_DAILY_CREDITS")
    assert "Traceback" not in run.stderr


async def test_rejected_token_says_so_plainly_and_never_prints_it(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    wrong_token = "MTIz.wrong-token-that-must-stay-secret"
    process = BotProcess(bot_environment(fake, tmp_path, DISCORD_TOKEN=wrong_token), tmp_path)
    try:
        await process.start()
        code = await process.wait(timeout=60)
    finally:
        await fake.stop()
    assert code == 2
    assert "Discord rejected DISCORD_TOKEN" in process.output
    assert "Traceback" not in process.output
    assert wrong_token not in process.output


def test_unreachable_discord_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": "x",
        "DISCORD_API_URL": "http://127.0.0.1:9/api/v10",  # the discard port: nothing listens
        "VIDEO_MODEL": "tiny",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "GALLERY_PORT": "0",  # no web gallery: this run fails at Discord, whatever listens on 8080
    }
    run = run_bot_once(environment, tmp_path)
    assert run.returncode == 1
    assert "could not reach Discord at http://127.0.0.1:9/api/v10" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_taken_web_gallery_port_stops_the_bot_with_one_line_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": "never-used-token",
            "DISCORD_API_URL": "http://127.0.0.1:9/api/v10",  # never reached: the web gallery starts first
            "VIDEO_MODEL": "tiny",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "GALLERY_PORT": str(port),
        }
        run = run_bot_once(environment, tmp_path)
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]  # the logs go to stderr too
    assert errors == [run.stderr.splitlines()[-1]]
    assert errors[0].startswith(f"error: the web gallery cannot listen on 127.0.0.1:{port} (")
    assert errors[0].endswith("GALLERY_PORT to a free port, or GALLERY_PORT to 0 to turn the web gallery off")
    assert "Traceback" not in run.stderr and "logging in" not in run.stderr


async def test_a_second_bot_on_the_same_database_waits_out_the_lease_then_stops_with_status_2(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    first = BotProcess(bot_environment(fake, tmp_path), tmp_path)
    second = BotProcess(bot_environment(fake, tmp_path), tmp_path / "second")  # same database and DATA_DIR
    try:
        await first.start()
        await first.wait_for_log("logged in as", timeout=90)
        await second.start()
        code = await second.wait(timeout=90)  # one lease period (30 s), renewed by the first meanwhile
        assert first.returncode is None  # the first one serves on
    finally:
        await first.stop()
        await fake.stop()
    assert code == 2
    assert "another promptreel process is using this database (lease held until" in second.output
    assert "stop it first" in second.output and "Traceback" not in second.output
    assert "logged in as" not in second.output


async def test_a_real_start_logs_no_voice_warnings(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    process = BotProcess(bot_environment(fake, tmp_path), tmp_path)  # LOG_LEVEL=DEBUG: discord.py's every line
    try:
        await process.start()
        await process.wait_for_log("logged in as", timeout=90)
    finally:
        await process.stop()
        await fake.stop()
    assert "voice will NOT be supported" not in process.output
    assert "PyNaCl" not in process.output and "davey" not in process.output
    assert "discord.client: logging in using static token" in process.output  # discord.py's other lines still show


def test_only_the_voice_warnings_are_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", secrets=())
        client = logging.getLogger("discord.client")
        client.warning("PyNaCl is not installed, voice will NOT be supported")
        client.warning("davey is not installed, voice will NOT be supported")
        client.warning("a warning of discord.py's own")
        logging.getLogger("bot").warning("davey is not installed, voice will NOT be supported")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("discord").setLevel(logging.NOTSET)
        logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("WARNING discord.client: a warning of discord.py's own")
    assert lines[1].endswith("WARNING bot: davey is not installed, voice will NOT be supported")


async def test_a_model_that_cannot_load_stops_the_bot_with_one_line_and_status_2(tmp_path: Path) -> None:
    """The bot logs in while the model loads; a model that cannot load still stops it, as before it logged in."""
    fake = FakeDiscord()
    await fake.start()
    hub_cache = tmp_path / "hf" / "hub"
    # An empty Hugging Face cache, downloads off: what a first start without a network meets.
    environment = bot_environment(
        fake, tmp_path, VIDEO_MODEL="wan-1.3b", HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1"
    )
    process = BotProcess(environment, tmp_path)
    try:
        await process.start()
        code = await process.wait(timeout=90)
    finally:
        await fake.stop()
    assert code == 2
    errors = [line for line in process.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: the video model could not start: Wan-AI/Wan2.1-T2V-1.3B-Diffusers is not in the Hugging Face cache "
        f"({hub_cache}) and HF_HUB_OFFLINE is set; unset it to download the weights, or copy them into the cache"
    ]
    assert "Traceback" not in process.output
