"""/jobs and the Cancel button end to end: one `python -m bot` against the fake Discord, with a tiny preset
made slow (many steps), so a job is still rendering when it is cancelled."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.messages import text
from tests.bot.bot_process import BotProcess, bot_environment
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    OTHER_MEMBER_ID,
    add_default_guild,
)
from tests.fake_discord.models import MEMBER_PERMISSIONS
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6


class RunningBot:
    def __init__(self, fake: FakeDiscord, process: BotProcess, workdir: Path) -> None:
        self.fake = fake
        self.process = process
        self.workdir = workdir

    def webhook(self, interaction: SentInteraction) -> str:
        return rf"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original"

    async def edit_containing(self, interaction: SentInteraction, words: str) -> Payload:
        edit = await self.fake.wait_for_request(
            "PATCH",
            self.webhook(interaction),
            predicate=lambda request: words in (request.json or {}).get("content", ""),
            timeout=60,
        )
        payload: Payload = edit.json
        assert payload is not None and payload["allowed_mentions"]["parse"] == []
        return payload

    async def answer(self, interaction: SentInteraction) -> str:
        """A deferred ephemeral answer's words."""
        callback = await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")
        assert callback.json is not None and callback.json["data"]["flags"] & EPHEMERAL, callback.describe()
        edit = await self.fake.wait_for_request("PATCH", self.webhook(interaction), timeout=30)
        assert edit.json is not None and edit.json["allowed_mentions"]["parse"] == []
        return str(edit.json["content"])

    async def rendering_job(self, user_id: int) -> tuple[int, SentInteraction]:
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id, name="video", options={"prompt": "a slow fox"}
        )
        queued = await self.edit_containing(interaction, "Queued")
        found = re.search(r"job #(\d+)", queued["content"])
        assert found is not None
        job_id = int(found[1])
        [[button]] = [row["components"] for row in queued["components"]]
        assert button["custom_id"] == f"cancel:{job_id}" and button["label"] == "Cancel"
        await self.edit_containing(interaction, "Rendering")
        return job_id, interaction

    async def click_cancel(self, status: SentInteraction, job_id: int, user_id: int, locale: str = "en-US") -> str:
        message = self.fake.original_response(status)
        assert message is not None
        click = await self.fake.click_button(
            message=message,
            custom_id=f"cancel:{job_id}",
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            permissions=int(MEMBER_PERMISSIONS),
            locale=locale,
        )
        return await self.answer(click)

    async def command(self, user_id: int, subcommand: str, locale: str = "en-US", **options: object) -> str:
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            name="jobs",
            subcommand=subcommand,
            options=options,
            locale=locale,
        )
        if subcommand == "cancel":
            return await self.answer(interaction)
        callback: RecordedRequest = await self.fake.wait_for_request(
            "POST", rf"/interactions/{interaction.id}/[^/]+/callback"
        )
        assert callback.json is not None and callback.json["data"]["flags"] & EPHEMERAL
        assert callback.json["data"]["allowed_mentions"]["parse"] == []
        return str(callback.json["data"]["content"])

    def query(self, sql: str, *parameters: object) -> object:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return database.execute(sql, parameters).fetchone()[0]

    async def settled_state(self, job_id: int, timeout: float = 30.0) -> object:
        async with asyncio.timeout(timeout):
            while (state := self.query("SELECT state FROM jobs WHERE id = ?", job_id)) in ("queued", "running"):
                await asyncio.sleep(0.05)
        return state

    def refunds(self, job_id: int) -> object:
        return self.query("SELECT count(*) FROM credit_ledger WHERE job_id = ? AND kind = 'refund'", job_id)

    def channel_posts(self) -> int:
        posts = [request for request in self.fake.requests if request.method == "POST"]
        return sum(1 for request in posts if request.path.endswith(f"/channels/{CHANNEL_ID}/messages"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    add_default_guild(fake)
    workdir = tmp_path_factory.mktemp("jobs-bot")
    presets = workdir / "presets.toml"
    # minutes of rendering: still busy when cancelled
    presets.write_text("[tiny]\ndefault_steps = 5000\nmax_steps = 5000\n")
    environment = bot_environment(
        fake,
        workdir,
        DISCORD_GUILD_ID=str(GUILD_ID),
        VIDEO_PRESETS_FILE=str(presets),
        QUOTA_DAILY_CREDITS="10",
        LOG_LEVEL="INFO",
    )
    process = BotProcess(environment, workdir)
    await process.start()
    try:
        await fake.wait_until_ready(timeout=60, commands_synced=True)
        await process.wait_for_log("logged in as")
        yield RunningBot(fake, process, workdir)
    finally:
        await process.stop()
        await fake.stop()


async def test_the_owner_cancels_a_render_with_its_button_and_nobody_else_can(bot: RunningBot) -> None:
    posts = bot.channel_posts()
    job_id, status = await bot.rendering_job(MEMBER_ID)

    refused = await bot.click_cancel(status, job_id, OTHER_MEMBER_ID)
    assert refused.startswith(f"**Job #{job_id}** isn't yours")
    assert bot.query("SELECT state FROM jobs WHERE id = ?", job_id) == "running"

    assert (await bot.click_cancel(status, job_id, MEMBER_ID)).startswith(f"Stopping **job #{job_id}**")
    assert await bot.settled_state(job_id) == "cancelled"
    cancelled = await bot.edit_containing(status, "was cancelled")
    assert "refunded" in cancelled["content"] and cancelled["components"] == []
    assert bot.refunds(job_id) == 1
    assert bot.channel_posts() == posts

    # The button is gone; cancelling again finds nothing to cancel, and refunds nothing.
    assert "already finished" in await bot.command(MEMBER_ID, "cancel", job=job_id)
    assert bot.refunds(job_id) == 1
    listed = await bot.command(MEMBER_ID, "list")
    assert f"**#{job_id}** · cancelled" in listed and "a slow fox" in listed
    assert "You haven't made any videos" in await bot.command(OTHER_MEMBER_ID, "list")


async def test_a_moderator_cancels_a_members_job_with_the_command(bot: RunningBot) -> None:
    job_id, status = await bot.rendering_job(OTHER_MEMBER_ID)
    assert "isn't yours" in await bot.command(MEMBER_ID, "cancel", job=job_id)

    assert f"**job #{job_id}**" in await bot.command(MODERATOR_ID, "cancel", job=job_id)
    assert await bot.settled_state(job_id) == "cancelled"
    await bot.edit_containing(status, "was cancelled")
    assert bot.refunds(job_id) == 1
    assert "There is no job #999999" in await bot.command(MODERATOR_ID, "cancel", job=999_999)
    assert bot.fake.schema_violations() == []


async def test_a_member_whose_discord_is_in_vietnamese_follows_and_cancels_a_job_in_vietnamese(bot: RunningBot) -> None:
    status = await bot.fake.send_slash_command(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=MEMBER_ID,
        name="video",
        options={"prompt": "một con cáo đi thật chậm"},
        locale="vi",
    )
    queued = await bot.edit_containing(status, "Đã xếp **yêu cầu #")
    found = re.search(r"yêu cầu #(\d+)", queued["content"])
    assert found is not None
    job_id = int(found[1])
    [[button]] = [row["components"] for row in queued["components"]]
    assert (button["custom_id"], button["label"]) == (f"cancel:{job_id}", "Hủy")
    rendering = await bot.edit_containing(status, f"Đang tạo video cho **yêu cầu #{job_id}**")
    assert " giây" in rendering["content"] or " phút" in rendering["content"]  # how long, in her words

    stopping = await bot.click_cancel(status, job_id, MEMBER_ID, locale="vi")
    assert stopping == text("cancel.stopping", "vi", job_id=job_id)
    assert await bot.settled_state(job_id) == "cancelled"
    cancelled = await bot.edit_containing(status, f"**Yêu cầu #{job_id}** đã bị hủy.")
    assert re.search(r"Mình đã hoàn lại \d+ credit cho bạn\.$", cancelled["content"])
    assert f"**#{job_id}** · đã hủy · " in await bot.command(MEMBER_ID, "list", locale="vi")
    # Someone else's Discord, in English, reads English about the same job.
    assert (await bot.command(OTHER_MEMBER_ID, "cancel", job=job_id)).startswith(f"**Job #{job_id}** isn't yours")


async def test_nothing_went_wrong_inside_the_bot(bot: RunningBot) -> None:
    assert "Traceback" not in bot.process.output
