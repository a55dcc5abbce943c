"""`python -m bot` as a real process, pointed at a FakeDiscord: the app exactly as an operator starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.fake_discord.server import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
MODEL_READY = "the render backend started"
"""What the bot logs once its render backend has started (the model loaded): it logs in before that, and answers
/video meanwhile, but renders nothing until then."""


def bot_environment(fake: FakeDiscord, workdir: Path, **overrides: str) -> dict[str, str]:
    """Settings for a bot that talks only to `fake` and keeps everything under `workdir`."""
    inherited = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.base_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        "DATA_DIR": str(workdir / "data"),
        "VIDEO_MODEL": "tiny",
        "VIDEO_DEVICE": "cpu",
        "LOG_LEVEL": "DEBUG",
        "GALLERY_PORT": "0",  # no web gallery unless a test asks: bots started side by side never fight over a port
        **overrides,
    }


class BotProcess:
    def __init__(self, environment: Mapping[str, str], workdir: Path) -> None:
        self.environment = dict(environment)
        self.workdir = workdir
        self.output = ""
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # cwd is the work dir, so no developer's .env is read by accident.
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.workdir,
            env=self.environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._collect_output())

    async def _collect_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            self.output += line.decode(errors="replace")

    async def wait_for_log(self, text: str, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while text not in self.output:
                if self.returncode is not None:
                    raise AssertionError(f"the bot exited with {self.returncode}:\n{self.output}")
                await asyncio.sleep(0.05)

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    async def wait(self, timeout: float = 60.0) -> int:
        assert self._process is not None and self._reader is not None
        async with asyncio.timeout(timeout):
            code = await self._process.wait()
            await self._reader
        return code

    @property
    def pid(self) -> int:
        assert self._process is not None, "start() it first"
        return self._process.pid

    async def stop(self) -> int:
        """SIGTERM (a clean shutdown, as `docker stop` does), then SIGKILL if it hangs."""
        if self._process is None or self._process.returncode is not None:
            return await self.wait()
        self._process.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout=20)
        except TimeoutError:
            self._process.kill()
            return await self.wait()


def descendants(pid: int) -> set[int]:
    """The live processes below `pid` (the render worker, multiprocessing's helpers), read from /proc; Linux only."""
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after the command name, which may hold spaces
        except OSError:  # it ended meanwhile
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found: set[int] = set()
    parents = [pid]
    while parents:
        below = children.get(parents.pop(), set()) - found
        found |= below
        parents.extend(below)
    return found


def is_alive(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie its new parent has yet to reap has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class RestartableBot:
    """A module's bot, one `python -m bot` process after another on the same database and DATA_DIR: `restart` is a
    clean stop and a new process (a new discord.py client). Subclasses add what their tests do as members."""

    guild_id: int
    """The server its commands are synced to (DISCORD_GUILD_ID in the environment)."""
    renders_at_start: bool = False
    """Whether start() waits for the model too, for tests that need jobs rendering at once."""

    def __init__(self, fake: FakeDiscord, environment: dict[str, str], workdir: Path) -> None:
        self.fake = fake
        self.environment = environment
        self.workdir = workdir
        self.processes: list[BotProcess] = []

    @property
    def process(self) -> BotProcess:
        return self.processes[-1]

    async def start(self) -> None:
        synced = len(self.fake.requests)
        self.processes.append(BotProcess(self.environment, self.workdir))
        await self.process.start()
        await self.fake.wait_for_request(
            "PUT",
            rf"/applications/{self.fake.application_id}/guilds/{self.guild_id}/commands",
            timeout=90,
            after=synced,
        )
        await self.process.wait_for_log("logged in as")
        if self.renders_at_start:
            await self.process.wait_for_log(MODEL_READY)

    async def restart(self) -> None:
        await self.process.stop()
        await self.start()
