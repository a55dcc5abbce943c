"""`python -m gallery` as an operator runs it: one line and status 2 for a setting to fix, else it serves the
database's galleries until SIGTERM, then stops cleanly with status 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

import gallery.__main__ as gallery_main

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 30


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment: no .env is read (the process runs in tmp_path) and nothing of this one leaks in."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "DATA_DIR": str(tmp_path / "data"),
        "GALLERY_HOST": "127.0.0.1",
        **settings,
    }


async def start(tmp_path: Path, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gallery",
        cwd=tmp_path,
        env=environment(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def refused(tmp_path: Path, **settings: str) -> str:
    process = await start(tmp_path, **settings)
    _, stderr = await asyncio.wait_for(process.communicate(), START_SECONDS)
    assert process.returncode == 2
    return stderr.decode()


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("http", "promptreel gallery: GALLERY_PORT"),
        (
            "0",
            "promptreel gallery: GALLERY_PORT is 0, which turns the web gallery off; set it to the port to serve it on",
        ),
    ],
)
def test_a_setting_to_fix_is_one_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], port: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in environment(tmp_path, GALLERY_PORT=port).items():
        monkeypatch.setenv(name, value)
    assert gallery_main.main() == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines


async def test_a_port_in_use_is_one_line_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        stderr = await refused(tmp_path, GALLERY_PORT=str(taken.getsockname()[1]))
    [line] = [line for line in stderr.splitlines() if line.startswith("promptreel gallery: ")]
    assert "GALLERY_PORT to a free port, or GALLERY_PORT to 0 to turn the web gallery off" in line
    assert "Traceback" not in stderr


async def test_it_serves_until_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await start(tmp_path, GALLERY_PORT=str(port), LOG_LEVEL="INFO")
    assert process.stderr is not None
    try:
        async with asyncio.timeout(START_SECONDS):
            while b"web gallery listening on" not in (line := await process.stderr.readline()):
                assert line, "it stopped before it listened"
        assert line.decode().rstrip().endswith(f"web gallery listening on http://127.0.0.1:{port}")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as front:
                assert front.status == 200
            async with http.get(f"http://127.0.0.1:{port}/g/NoSuchGallery0000") as missing:
                assert missing.status == 404
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), START_SECONDS)
        assert process.returncode == 0, rest.decode()
        assert b"web gallery stopped" in rest and b"Traceback" not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
