"""The app-command tree against the fake Discord: every failure answered once, ephemerally, pinging no one, and
commands synced to one scope only.

The error handler's paths run on an in-process discord.py client with the bot's tree and commands made to fail;
what the bot does with them runs as `python -m bot`, its database broken underneath it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, cast

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands

from bot.errors import ERROR_MESSAGE, AnsweringTree, AnyCommand, answer_error
from bot.messages import text
from tests.bot.bot_process import BotProcess, bot_environment
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    add_default_guild,
    connected_client,
)
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6
DEFERRED = 5
READY_QUICKLY = 0.05  # guild_ready_timeout: how long discord.py waits for more GUILD_CREATEs
# What an earlier run without DISCORD_GUILD_ID left in the application's global scope.
EARLIER_GLOBAL_COMMANDS = [
    {"name": "video", "description": "An older /video", "type": 1},
    {"name": "quota", "description": "An older /quota", "type": 1},
]


# ------------------------------------------------------------------ the handler, on an in-process client


@app_commands.command(name="boom", description="Fails before answering")
async def boom(interaction: discord.Interaction) -> None:
    raise RuntimeError("the database went away")


@app_commands.command(name="late", description="Fails after deferring", extras={ERROR_MESSAGE: "mod.error"})
async def late(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    raise RuntimeError("the database went away after the defer")


tools = app_commands.Group(
    name="tools", description="Declares its error message once", extras={ERROR_MESSAGE: "mod.error"}
)


@tools.command(name="break", description="Fails inside its group")
async def break_tool(interaction: discord.Interaction) -> None:
    raise RuntimeError("a subcommand broke")


class TreeClient(discord.Client):
    """A bare client with the bot's tree: only the error handler is under test."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=READY_QUICKLY)
        self.tree = AnsweringTree(self)  # type: ignore[arg-type]

    async def setup_hook(self) -> None:
        guild = discord.Object(GUILD_ID)
        commands: tuple[AnyCommand, ...] = (boom, late, tools)
        for command in commands:
            self.tree.add_command(command, guild=guild)
        await self.tree.sync(guild=guild)


@pytest_asyncio.fixture(loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord with TreeClient connected to it."""
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    try:
        async with connected_client(fake, TreeClient()):
            await fake.wait_until_ready(commands_synced=True)
            yield fake
    finally:
        await fake.stop()


def apology(body: Payload) -> str:
    """The words of an ephemeral message that pings no one (a callback's data or a followup's body)."""
    assert body["flags"] & EPHEMERAL, body
    assert body["allowed_mentions"]["parse"] == [], body
    return str(body["content"])


async def callback_of(fake: FakeDiscord, interaction: SentInteraction) -> RecordedRequest:
    return await fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "bot.errors"]


async def invoke(fake: FakeDiscord, name: str, subcommand: str | None = None) -> SentInteraction:
    return await fake.send_slash_command(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MEMBER_ID, name=name, subcommand=subcommand
    )


async def test_a_command_that_fails_before_answering_gets_an_ephemeral_answer_and_a_logged_traceback(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = await invoke(fake, "boom")

    callback = await callback_of(fake, interaction)

    assert callback.json is not None and callback.json["type"] == 4
    assert apology(callback.json["data"]) == text("error.unexpected")  # no extras: the default message
    [logged] = errors_logged(caplog)
    assert logged.levelno == logging.ERROR and "/boom" in logged.getMessage()
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], RuntimeError)  # unwrapped from discord.py's
    assert fake.schema_violations() == []


async def test_a_command_that_fails_after_answering_gets_an_ephemeral_followup(fake: FakeDiscord) -> None:
    interaction = await invoke(fake, "late")

    followup = await fake.wait_for_request("POST", rf"^/webhooks/{fake.application_id}/{interaction.token}$")

    assert apology(followup.json) == text("mod.error")  # the command's own extras
    [callback] = fake.callbacks_for(interaction)  # the defer: the handler did not try to answer twice
    assert callback.json == {"type": DEFERRED, "data": {"flags": EPHEMERAL}}
    assert fake.schema_violations() == []


async def test_a_subcommand_uses_the_error_message_its_group_declares(fake: FakeDiscord) -> None:
    interaction = await invoke(fake, "tools", "break")
    callback = await callback_of(fake, interaction)
    assert callback.json is not None and apology(callback.json["data"]) == text("mod.error")


async def test_an_answer_discord_refuses_is_logged_not_raised(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = {"message": "Unknown interaction", "code": 10062}
    fake.inject_fault("POST", r"^/interactions/[0-9]+/[^/]+/callback$", status=404, body=unknown)
    interaction = await invoke(fake, "boom")

    refused = await callback_of(fake, interaction)

    assert refused.status == 404
    async with asyncio.timeout(5):
        while len(errors_logged(caplog)) < 2:
            await asyncio.sleep(0.01)
    failed, unanswered = errors_logged(caplog)
    assert "/boom failed" in failed.getMessage()
    assert "could not tell the member that /boom failed" in unanswered.getMessage()
    assert unanswered.exc_info is not None and isinstance(unanswered.exc_info[1], discord.NotFound)


class Unanswerable:
    """An interaction whose every answer fails, as when Discord is unreachable."""

    locale = "en-US"
    command = None
    data: ClassVar[dict[str, str]] = {"custom_id": "audit:1:0"}

    class response:
        @staticmethod
        def is_done() -> bool:
            return False

        @staticmethod
        async def send_message(*args: Any, **kwargs: Any) -> None:
            raise ConnectionResetError("Discord is unreachable")


async def test_the_handler_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    await answer_error(Unanswerable(), RuntimeError("broken"), unexpected="mod.error")  # type: ignore[arg-type]
    assert "could not tell the member that component audit:1:0 failed" in caplog.text


# ------------------------------------------------------------------ the bot itself, as `python -m bot`


class RunningBot:
    def __init__(self, fake: FakeDiscord, process: BotProcess, workdir: Path) -> None:
        self.fake = fake
        self.process = process
        self.workdir = workdir

    async def commands_in(self, path: str) -> list[Payload]:
        """The application's commands in one scope, read back as a client of the fake would."""
        url = f"{self.fake.base_url}/applications/{self.fake.application_id}{path}"
        return cast(list[Payload], await _rest(self.fake, "GET", url))

    @contextmanager
    def table_gone(self, table: str) -> Iterator[None]:
        """The bot's database without `table` inside the block: every read of it fails."""
        with sqlite3.connect(self.workdir / "bot.db") as database:
            database.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
        try:
            yield
        finally:
            with sqlite3.connect(self.workdir / "bot.db") as database:
                database.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


async def _rest(fake: FakeDiscord, method: str, url: str, body: object = None) -> Any:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as session:
        async with session.request(method, url, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json(content_type=None)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    add_default_guild(fake)
    global_scope = f"{fake.base_url}/applications/{fake.application_id}/commands"
    await _rest(fake, "PUT", global_scope, EARLIER_GLOBAL_COMMANDS)
    workdir = tmp_path_factory.mktemp("tree-bot")
    process = BotProcess(bot_environment(fake, workdir, DISCORD_GUILD_ID=str(GUILD_ID), LOG_LEVEL="INFO"), workdir)
    await process.start()
    try:
        await process.wait_for_log("logged in as", timeout=90)  # after setup_hook, which syncs
        yield RunningBot(fake, process, workdir)
    finally:
        await process.stop()
        await fake.stop()


async def test_with_a_server_id_the_commands_live_in_that_server_only(bot: RunningBot) -> None:
    assert await bot.commands_in("/commands") == []
    in_server = await bot.commands_in(f"/guilds/{GUILD_ID}/commands")
    assert sorted(command["name"] for command in in_server) == [
        "gallery",
        "help",
        "jobs",
        "mod",
        "queue",
        "quota",
        "settings",
        "video",
    ]
    # The server got its commands before the global ones went: it is never without them.
    puts = [request for request in bot.fake.requests if request.method == "PUT"][1:]  # after the earlier run's
    assert [(request.path, request.json == []) for request in puts] == [
        (f"/applications/{bot.fake.application_id}/guilds/{GUILD_ID}/commands", False),
        (f"/applications/{bot.fake.application_id}/commands", True),
    ]
    assert f"synced 8 command(s) to server {GUILD_ID} and removed 2 global command(s)" in bot.process.output


async def test_the_synced_commands_carry_their_vietnamese_names_and_descriptions(bot: RunningBot) -> None:
    [sync] = [
        request
        for request in bot.fake.requests
        if request.method == "PUT" and request.path.endswith(f"/guilds/{GUILD_ID}/commands")
    ]

    def named(payloads: list[Payload], path: str = "") -> Iterator[tuple[str, Payload]]:
        for payload in payloads:
            here = f"{path} {payload['name']}".strip()
            yield here, payload
            yield from named(payload.get("options") or [], here)

    untranslated = [
        path
        for path, payload in named(sync.json)
        if set(payload.get("name_localizations") or {}) != {"vi"}
        or set(payload.get("description_localizations") or {}) != {"vi"}
    ]
    assert untranslated == []  # every command, subcommand and option, in Vietnamese only: English is the default
    synced = dict(named(sync.json))
    assert synced["video"]["description_localizations"]["vi"] == text("command.video", "vi")
    assert synced["jobs list"]["name_localizations"]["vi"] == "danh-sách"
    assert synced["video negative_prompt"]["name_localizations"]["vi"] == "loại_trừ"
    [daily, rolling] = synced["quota window kind"]["choices"]
    assert (daily["value"], daily["name_localizations"]) == ("daily", {"vi": text("choice.window.daily", "vi")})
    assert (rolling["value"], rolling["name"]) == ("rolling", "rolling")
    assert bot.fake.schema_violations() == []  # within Discord's lengths


async def test_a_moderator_command_that_breaks_before_answering_still_answers(bot: RunningBot) -> None:
    with bot.table_gone("audit_log"):
        interaction = await bot.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MODERATOR_ID, name="mod", subcommand="audit"
        )
        callback = await callback_of(bot.fake, interaction)

    assert callback.json is not None and callback.json["type"] == 4
    assert apology(callback.json["data"]) == text("mod.error")
    await bot.process.wait_for_log("no such table: audit_log")
    assert "bot.errors: /mod audit failed\nTraceback" in bot.process.output  # logged with its traceback

    # The guild's copy of the command still dispatches once the database is whole again.
    interaction = await bot.fake.send_slash_command(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MODERATOR_ID, name="mod", subcommand="audit"
    )
    callback = await callback_of(bot.fake, interaction)
    assert callback.json is not None and apology(callback.json["data"]) == text("audit.empty")
    assert bot.fake.schema_violations() == []
