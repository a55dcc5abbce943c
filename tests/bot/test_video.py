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

from bot.messages import text
from tests.bot.bot_process import BotProcess, bot_environment
from tests.fake_discord.models import Permission
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUILD_ID = 700_000_000_000_000_001
CHANNEL_ID = 700_000_000_000_000_002
ROLE_ID = 700_000_000_000_000_003
ALICE, BOB, CAROL = 700_000_000_000_000_011, 700_000_000_000_000_012, 700_000_000_000_000_013
DAVE, ERIN = 700_000_000_000_000_014, 700_000_000_000_000_015
LINH = 700_000_000_000_000_016  # her Discord is in Vietnamese
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

    def job_row(self, user_id: int) -> dict[str, object]:
        """The member's one job, as stored."""
        with sqlite3.connect(self.workdir / "bot.db") as database:
            database.row_factory = sqlite3.Row
            [row] = database.execute("SELECT * FROM jobs WHERE user_id = ?", (user_id,)).fetchall()
            return dict(row)

    def charged(self, job_id: object) -> int:
        """The credits the ledger reserved for the job."""
        with sqlite3.connect(self.workdir / "bot.db") as database:
            [[delta]] = database.execute(
                "SELECT delta FROM credit_ledger WHERE job_id = ? AND kind = 'reserve'", (job_id,)
            ).fetchall()
            return -int(delta)

    async def suggestions(self, focused: str, typed: str, **options: object) -> list[Payload]:
        """What the bot suggests while a member types `typed` into /video's option `focused`."""
        interaction = await self.fake.send_autocomplete(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=CAROL,
            name="video",
            focused=focused,
            typed=typed,
            options=options,
        )
        callback = await self.first_callback(interaction)
        assert callback.json is not None and callback.json["type"] == 8
        choices: list[Payload] = callback.json["data"]["choices"]
        return choices

    async def limits(self, **options: object) -> None:
        """/settings limits, by the server's owner: once answered, /video and its suggestions follow them."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=ALICE,
            name="settings",
            subcommand="limits",
            options=options,
        )
        callback = await self.first_callback(interaction)
        assert callback.json is not None and "Done" in callback.json["data"]["content"], callback.describe()

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
    members = ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (DAVE, "Dave"), (ERIN, "Erin"), (LINH, "Linh"))
    for user_id, name in members:
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
    assert set(options) == {"prompt", "negative_prompt", "seed", "preset", "aspect", "duration", "steps"}
    # Only served presets are offered, so they are suggested as the member types, not fixed choices; so are the
    # durations, which depend on the preset.
    assert options["preset"]["autocomplete"] is True and "choices" not in options["preset"]
    assert options["duration"]["autocomplete"] is True and options["duration"]["type"] == 4  # an integer
    assert [choice["value"] for choice in options["aspect"]["choices"]] == ["16:9", "9:16", "1:1"]
    assert options["steps"]["type"] == 4 and options["steps"]["min_value"] == 1


async def test_the_preset_and_duration_are_suggested_with_what_they_cost(bot: RunningBot) -> None:
    [tiny] = await bot.suggestions("preset", "ti")
    assert tiny == {
        "name": "tiny: Random weights, for tests: coloured noise in about a second · 1 credit",
        "value": "tiny",
    }
    assert await bot.suggestions("preset", "wan") == []  # in the catalogue, but not served here
    # Each duration tiny can make (8 fps, frames 4k+1 up to 33), priced for the aspect already chosen.
    durations = await bot.suggestions("duration", "", preset="tiny", aspect="16:9")
    assert durations == [
        {"name": "1 second · 9 frames at 8 fps · 2 credits", "value": 1},
        {"name": "2 seconds · 17 frames at 8 fps · 4 credits", "value": 2},
        {"name": "3 seconds · 25 frames at 8 fps · 5 credits", "value": 3},
        {"name": "4 seconds · 33 frames at 8 fps · 7 credits", "value": 4},
    ]
    assert [choice["value"] for choice in await bot.suggestions("duration", "3")] == [3]
    # They go through /video's own checks: the prompt's flags count (`--ar 16:9` prices them as aspect:16:9 does),
    # and a duration above the server's longest clip is not suggested.
    assert await bot.suggestions("duration", "", prompt="a kite --ar 16:9") == durations
    await bot.limits(max_seconds=2)
    try:
        assert [choice["value"] for choice in await bot.suggestions("duration", "", preset="tiny")] == [1, 2]
    finally:
        await bot.limits(max_seconds=0)
    assert [choice["value"] for choice in await bot.suggestions("duration", "")] == [1, 2, 3, 4]
    assert bot.fake.schema_violations() == []


async def test_video_answers_with_its_settings_then_renders_and_posts_with_credit(bot: RunningBot) -> None:
    prompt = f"a lighthouse in a storm @everyone <@&{ROLE_ID}> **bold** ünïcödé 🎬"
    interaction = await bot.video(ALICE, prompt=prompt, negative_prompt="blurry", seed=42)

    callback = await bot.first_callback(interaction)
    assert callback.at - interaction.dispatched_at < 3.0
    assert callback.json is not None
    assert callback.json["type"] == 4  # an answer, not a "thinking…": the settings and the cost, before the charge
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert callback.json["data"]["content"] == "This clip costs **1 credit**. Queuing it…"
    [settings] = callback.json["data"]["embeds"]
    assert settings_of(settings) == {
        "Preset": "`tiny`",
        "Aspect and size": "1:1 · 64×64",
        "Duration": "1 second · 9 frames at 8 fps",
        "Steps": "4",
        "Seed": "`42`",
        "Avoiding": "blurry",
    }

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
    status = bot.fake.original_response(interaction)
    assert status is not None and status["embeds"][0]["title"] == "Your clip's settings"  # kept by every edit
    assert bot.fake.schema_violations() == []


async def test_the_options_chosen_are_shown_and_the_cost_shown_is_the_cost_charged(bot: RunningBot) -> None:
    interaction = await bot.video(DAVE, prompt="a kite over a beach", aspect="16:9", duration=1, steps=3, seed=9)
    callback = await bot.first_callback(interaction)
    assert callback.json is not None
    shown = re.fullmatch(r"This clip costs \*\*(\d+) credits\*\*\. Queuing it…", callback.json["data"]["content"])
    assert shown is not None
    assert settings_of(callback.json["data"]["embeds"][0]) == {
        "Preset": "`tiny`",
        "Aspect and size": "16:9 · 112×64",
        "Duration": "1 second · 9 frames at 8 fps",
        "Steps": "3",
        "Seed": "`9`",
    }
    queued = await bot.edit_containing(interaction, "Queued")
    assert f"Cost: {shown[1]} credits" in queued.json["content"]
    job = bot.job_row(DAVE)
    assert (job["width"], job["height"], job["frames"], job["steps"], job["seed"]) == (112, 64, 9, 3, 9)
    assert job["cost"] == bot.charged(job["id"]) == int(shown[1]) == 2  # 112×64 over 64×64, 3 steps over 4


async def test_flags_in_the_prompt_are_applied_and_said_so(bot: RunningBot) -> None:
    prompt = "a paper fox --ar 9:16 --seed 42 --no text, watermark --v 6"
    interaction = await bot.video(ERIN, prompt=prompt, seed=7)
    callback = await bot.first_callback(interaction)
    assert callback.json is not None
    settings = settings_of(callback.json["data"]["embeds"][0])
    assert (settings["Aspect and size"], settings["Seed"], settings["Avoiding"]) == (
        "9:16 · 64×112",
        "`7`",
        "text, watermark",
    )
    assert settings["From your prompt"].splitlines() == [
        "`--ar 9:16`: applied",
        "`--no text, watermark`: applied",
        "`--seed 42`: ignored, since you chose `seed` yourself",
        "`--v`: not a flag I know, so it stays in your prompt",
    ]
    await bot.edit_containing(interaction, "Queued")
    job = bot.job_row(ERIN)
    assert (job["prompt"], job["negative_prompt"], job["seed"]) == ("a paper fox --v 6", "text, watermark", 7)
    assert (job["width"], job["height"]) == (64, 112)
    assert job["cost"] == bot.charged(job["id"]) == 2


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"aspect": "4:3"}, "`tiny` doesn't make `4:3` clips. Choose one of `16:9`, `9:16`, `1:1`."),
        ({"duration": 5}, "`tiny` can't make a clip of that length. Choose a duration in seconds: `1`, `2`, `3`, `4`."),
        ({"steps": 9}, "`tiny` renders with 1 to 8 steps: choose a whole number in that range."),
        ({"seed": 2**32}, "The seed must be a whole number from 0 to 4294967295."),
        ({"preset": "wan-14b"}, "The preset `wan-14b` isn't available on this bot. Available: `tiny`."),
        ({"prompt": "a fox --ar 4:3"}, "`tiny` doesn't make `4:3` clips."),
        ({"prompt": "a fox --steps 0"}, "`tiny` renders with 1 to 8 steps"),
        ({"prompt": "a fox --seed"}, "`--seed` in your prompt needs a value after it"),
        ({"prompt": "--seed 4 --ar 1:1"}, "the prompt can't be empty"),
    ],
)
async def test_each_bad_option_gets_its_own_refusal_and_costs_nothing(
    bot: RunningBot, options: dict[str, object], says: str
) -> None:
    jobs_before = bot.jobs_of(CAROL)
    interaction = await bot.video(CAROL, **{"prompt": "a fox", **options})
    callback = await bot.first_callback(interaction)
    assert callback.json is not None and callback.json["type"] == 4
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert says in callback.json["data"]["content"]
    assert "embeds" not in callback.json["data"] or not callback.json["data"]["embeds"]
    assert bot.jobs_of(CAROL) == jobs_before


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


async def test_the_status_shows_the_clip_forming_then_lets_the_picture_go(bot: RunningBot) -> None:
    interaction = await bot.video(ALICE, prompt="a red kite over green hills", seed=5)
    with_picture = await bot.fake.wait_for_request(
        "PATCH",
        rf"/webhooks/{bot.fake.application_id}/{interaction.token}/messages/@original",
        predicate=lambda request: bool(request.files),
        timeout=60,
    )
    # tiny renders in about a second: its one preview is of step 1, a 256-pixel JPEG of the square clip's middle.
    caption = "A rough look at the middle of your clip after step 1: the finished video will be sharper."
    assert with_picture.json["content"].startswith("Rendering") and with_picture.json["content"].endswith(caption)
    [upload] = with_picture.files
    assert upload.filename == "preview.jpg"
    assert [(entry["filename"], entry["description"]) for entry in with_picture.json["attachments"]] == [
        ("preview.jpg", caption)
    ]
    with av.open(io.BytesIO(upload.data), mode="r") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (256, 256)

    done = await bot.edit_containing(interaction, "posted")
    assert done.json["attachments"] == [] and caption not in done.json["content"]
    status = bot.fake.original_response(interaction)
    assert status is not None and status["attachments"] == []
    assert bot.fake.schema_violations() == []


async def test_a_member_whose_discord_is_in_vietnamese_is_answered_and_credited_in_vietnamese(bot: RunningBot) -> None:
    interaction = await bot.fake.send_slash_command(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=LINH,
        name="video",
        options={"prompt": "một con cáo chạy trong tuyết lúc hoàng hôn", "seed": 7},
        locale="vi",
    )

    callback = await bot.first_callback(interaction)
    assert callback.json is not None and callback.json["data"]["content"] == text("video.first_answer", "vi", cost=1)
    queued = await bot.edit_containing(interaction, "Đã xếp **yêu cầu #")
    found = re.search(r"yêu cầu #(\d+)\*\* vào hàng đợi · vị trí thứ \d+", queued.json["content"])
    assert found is not None and "Chi phí: 1 credit" in queued.json["content"]
    job_id = int(found[1])
    await bot.edit_containing(interaction, f"Đang tạo video cho **yêu cầu #{job_id}**: bước ")

    post = await bot.fake.wait_for_request(
        "POST",
        rf"/channels/{CHANNEL_ID}/messages",
        predicate=lambda request: f"<@{LINH}>" in (request.json or {}).get("content", ""),
        timeout=60,
    )
    assert post.json is not None and post.json["content"] == text("post.content", "vi", mention=f"<@{LINH}>")
    [embed] = post.json["embeds"]
    assert embed["title"] == f"Video do AI tạo · yêu cầu #{job_id}"
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Người yêu cầu"] == f"<@{LINH}>" and fields["Seed"] == "`7`"
    assert fields["Thông số"].startswith("9 khung hình · ") and fields["Thời gian tạo"].endswith(" giây")
    buttons = [button for row in post.json["components"] for button in row["components"]]
    [star] = [button for button in buttons if button["custom_id"].startswith("star:")]
    assert star["label"] == "⭐ Thả sao"  # the post is hers, in her language, whoever reads it
    done = await bot.edit_containing(interaction, f"**Yêu cầu #{job_id}** đã được đăng")
    assert str(post.response["id"]) in done.json["content"]
    assert bot.fake.schema_violations() == []


async def test_the_token_never_appears_in_the_logs(bot: RunningBot) -> None:
    assert "DEBUG" in bot.process.output  # the most verbose logs were captured
    assert bot.fake.token not in bot.process.output


def settings_of(embed: Payload) -> dict[str, str]:
    assert embed["title"] == "Your clip's settings"
    return {field["name"]: field["value"] for field in embed["fields"]}
