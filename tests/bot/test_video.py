"""/video end to end: `python -m bot` (real discord.py, real worker, real diffusers, real SQLite) against a fake
Discord."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
import pytest_asyncio

from tests.bot.bot_process import BotProcess, bot_environment
from tests.fake_discord.models import Permission
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUILD_ID = 700_000_000_000_000_001
CHANNEL_ID = 700_000_000_000_000_002
ROLE_ID = 700_000_000_000_000_003
ALICE, BOB, CAROL = 700_000_000_000_000_011, 700_000_000_000_000_012, 700_000_000_000_000_013
DAILY_CREDITS = 2
TINY = {"frames": 9, "width": 64, "height": 64}  # the tiny preset's default clip; checked against the catalogue below
EPHEMERAL = 1 << 6


class RunningBot:
    def __init__(self, fake: FakeDiscord, process: BotProcess, workdir: Path) -> None:
        self.fake = fake
        self.process = process
        self.workdir = workdir

    async def video(self, user_id: int, **options: object) -> SentInteraction:
        return await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id, name="video", options=options
        )

    async def first_callback(self, interaction: SentInteraction) -> RecordedRequest:
        return await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")

    async def edit_containing(self, interaction: SentInteraction, words: str) -> RecordedRequest:
        return await self.fake.wait_for_request(
            "PATCH",
            rf"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original",
            predicate=lambda request: words in (request.json or {}).get("content", ""),
            timeout=60,
        )

    async def settled_jobs_of(self, user_id: int, timeout: float = 10.0) -> list[tuple[str, int | None]]:
        """The member's jobs once none is still queued, running or awaiting its post."""
        async with asyncio.timeout(timeout):
            while any(state in ("queued", "running", "rendered") for state, _ in self.jobs_of(user_id)):
                await asyncio.sleep(0.05)
        return self.jobs_of(user_id)

    def jobs_of(self, user_id: int) -> list[tuple[str, int | None]]:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return database.execute(
                "SELECT state, message_id FROM jobs WHERE user_id = ? ORDER BY id", (user_id,)
            ).fetchall()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD_ID, name="Film Club", owner_id=ALICE, channels=[CHANNEL_ID])
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        fake.add_member(GUILD_ID, user_id, name=name, roles=[ROLE_ID])
    workdir = tmp_path_factory.mktemp("bot")
    process = BotProcess(
        bot_environment(
            fake,
            workdir,
            DISCORD_GUILD_ID=str(GUILD_ID),
            QUOTA_DAILY_CREDITS=str(DAILY_CREDITS),
            QUOTA_MAX_ACTIVE_JOBS="10",  # these tests run out of credits, not of job slots
        ),
        workdir,
    )
    await process.start()
    try:
        await fake.wait_for_request(
            "PUT", rf"/applications/{fake.application_id}/guilds/{GUILD_ID}/commands", timeout=90
        )
        await fake.wait_until_ready(timeout=60)
        await process.wait_for_log("logged in as")
        yield RunningBot(fake, process, workdir)
    finally:
        await process.stop()
        await fake.stop()


async def test_the_tiny_preset_matches_what_these_tests_expect() -> None:
    from model.presets import PRESETS

    tiny = PRESETS["tiny"]
    width, height = tiny.resolutions[tiny.default_aspect]
    assert {"frames": tiny.default_frames, "width": width, "height": height} == TINY


async def test_video_command_is_synced_with_its_options(bot: RunningBot) -> None:
    [video] = [command for command in bot.fake.synced_commands if command["name"] == "video"]
    options = {option["name"]: option for option in video["options"]}
    assert options["prompt"]["required"] is True
    assert options["prompt"]["max_length"] == 1000
    assert {"negative_prompt", "seed", "preset"} <= set(options)
    # Only served presets are offered, so they are suggested as the member types, not fixed choices.
    assert options["preset"]["autocomplete"] is True and "choices" not in options["preset"]


async def test_video_is_deferred_then_rendered_then_posted_with_credit(bot: RunningBot) -> None:
    prompt = f"a lighthouse in a storm @everyone <@&{ROLE_ID}> **bold** ünïcödé 🎬"
    interaction = await bot.video(ALICE, prompt=prompt, negative_prompt="blurry", seed=42)

    callback = await bot.first_callback(interaction)
    assert callback.at - interaction.dispatched_at < 3.0
    assert callback.json is not None
    assert callback.json["type"] == 5  # deferred, "thinking"
    assert callback.json["data"]["flags"] & EPHEMERAL

    queued = await bot.edit_containing(interaction, "Queued")
    assert re.search(r"position \d+ in the queue", queued.json["content"])
    assert f"{DAILY_CREDITS - 1} left today" in queued.json["content"]
    progress = await bot.edit_containing(interaction, "step")
    assert re.search(r"step \d+ of \d+", progress.json["content"])

    post = await bot.fake.wait_for_request("POST", rf"/channels/{CHANNEL_ID}/messages", timeout=60)
    body = post.json
    assert body is not None
    # It pings the requester and nobody else, whatever the prompt says.
    assert body["allowed_mentions"]["parse"] == []
    assert [str(user) for user in body["allowed_mentions"]["users"]] == [str(ALICE)]
    assert f"<@{ALICE}>" in body["content"]
    assert body["nonce"] and body.get("enforce_nonce") is True
    # The embed credits the requester, the model and its licence.
    [embed] = body["embeds"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Requested by"] == f"<@{ALICE}>"
    assert "tiny" in fields["Model"] and "Apache-2.0" in fields["Licence"]
    assert fields["Seed"] == "`42`"
    assert "@everyone" not in embed["description"] and f"<@&{ROLE_ID}>" not in embed["description"]
    assert "ünïcödé 🎬" in embed["description"]
    # The file: H.264, yuv420p, the expected frames and size, within the limit, with its credit inside.
    [upload] = post.files
    assert upload.filename.endswith(".mp4")
    assert len(upload.data) <= 10 * 1024 * 1024
    with av.open(io.BytesIO(upload.data), mode="r") as container:
        stream = container.streams.video[0]
        metadata = dict(container.metadata)
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = [frame for frame in container.decode(stream)]
    assert len(frames) == TINY["frames"]
    assert (frames[0].width, frames[0].height) == (TINY["width"], TINY["height"])
    assert metadata["title"] == prompt
    credit = metadata["comment"]
    for expected in ("Alice", str(ALICE), "tiny", "Apache-2.0", "42", "AI-generated"):
        assert expected in credit

    done = await bot.edit_containing(interaction, "posted")
    assert str(post.response["id"]) in done.json["content"]
    assert await bot.settled_jobs_of(ALICE) == [("delivered", int(post.response["id"]))]
    assert bot.fake.schema_violations() == []


async def test_a_small_upload_limit_is_honoured(bot: RunningBot) -> None:
    limit = 24 * 1024
    interaction = await bot.fake.send_slash_command(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=CAROL,
        name="video",
        options={"prompt": "static noise on an old television"},
        attachment_size_limit=limit,
    )
    done = await bot.edit_containing(interaction, "posted")
    [post] = [message for message in bot.fake.messages_in(CHANNEL_ID) if message["id"] in done.json["content"]]
    assert f"<@{CAROL}>" in post["content"]
    [attachment] = post["attachments"]
    assert attachment["size"] <= limit


async def test_quota_exhaustion_is_refused_politely_and_creates_no_job(bot: RunningBot) -> None:
    for n in range(DAILY_CREDITS):
        interaction = await bot.video(BOB, prompt=f"a paper boat, take {n}")
        await bot.edit_containing(interaction, "Queued")

    refused = await bot.video(BOB, prompt="one more paper boat")
    refusal = await bot.edit_containing(refused, "credits")
    assert "reset" in refusal.json["content"]
    assert "<t:" in refusal.json["content"]  # the reset time, in the member's own time zone
    assert len(bot.jobs_of(BOB)) == DAILY_CREDITS


@pytest.mark.parametrize(
    ("prompt", "says"),
    [
        ("   ", "can't be empty"),
        ("x" * 1001, "under 1000 characters"),
        ("a fox\x07 in the snow", "control characters"),
        ("a fox \u202ewons eht ni", "control characters"),
    ],
)
async def test_a_bad_prompt_gets_a_clear_ephemeral_error(bot: RunningBot, prompt: str, says: str) -> None:
    jobs_before = bot.jobs_of(CAROL)
    interaction = await bot.video(CAROL, prompt=prompt)
    callback = await bot.first_callback(interaction)
    assert callback.json is not None
    assert callback.json["type"] == 4
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert says in callback.json["data"]["content"]
    assert len(bot.jobs_of(CAROL)) == len(jobs_before)


async def test_a_channel_the_bot_cannot_post_in_is_refused_before_charging(bot: RunningBot) -> None:
    jobs_before = bot.jobs_of(CAROL)
    everyone = bot.fake.guilds[GUILD_ID].roles[GUILD_ID]
    everyone.permissions &= ~Permission.ATTACH_FILES  # the bot, like every member, may no longer attach files
    try:
        interaction = await bot.video(CAROL, prompt="a fox")
        callback = await bot.first_callback(interaction)
    finally:
        everyone.permissions |= Permission.ATTACH_FILES
    assert callback.json is not None and callback.json["data"]["flags"] & EPHEMERAL
    assert "Attach Files" in callback.json["data"]["content"]
    assert "Send Messages" not in callback.json["data"]["content"]
    assert bot.jobs_of(CAROL) == jobs_before


async def test_the_token_never_appears_in_the_logs(bot: RunningBot) -> None:
    assert "DEBUG" in bot.process.output  # the most verbose logs were captured
    assert bot.fake.token not in bot.process.output
