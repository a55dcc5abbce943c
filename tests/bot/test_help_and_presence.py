"""/help, the presence and the model-loading state, through the fake Discord with the real discord.py client.

The bot runs in-process (real SQLite, real runner) over a render backend whose start lasts until the test says the
model is loaded (tests.jobs.scripted_backend.SlowStartingBackend): the real worker's load is the model tests'
business, and what matters here is what members see meanwhile. The presence is looked at every few tenths of a
second instead of every 15 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import VideoBot
from bot.exts.help import command_name
from bot.messages import text
from bot.publisher import StatusTiming
from bot.refusals import failure_text
from bot.translator import option_name
from common.failures import Failure, FailureCode
from db.database import Database
from jobs.admission import JobAdmission
from jobs.clock import SystemClock
from jobs.estimates import JobEstimates
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.moderation import ModerationService
from jobs.pricing import default_clip_cost
from jobs.queue_control import QueueControl
from jobs.quota import QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.runner import JobRunner
from jobs.server_rules import ServerRulesService
from model.contract import Failed
from model.presets import PRESETS
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    OTHER_MEMBER_ID,
    add_default_guild,
    connected_client,
)
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, SentInteraction
from tests.jobs.scripted_backend import SlowStartingBackend

EPHEMERAL = 1 << 6
EVERY = 0.2  # seconds between two looks at the presence, and between two refreshes of a waiting status
CREDITS = 100
EMBED_TOTAL_LIMIT = 6000
LOADING = "Loading the video model…"


@dataclass
class RunningBot:
    fake: FakeDiscord
    bot: VideoBot
    backend: SlowStartingBackend

    async def answer(self, interaction: SentInteraction) -> Payload:
        """The first answer to an interaction: its callback's data."""
        callback = await self.fake.wait_for_request(
            "POST", rf"^/interactions/{interaction.id}/{interaction.token}/callback$"
        )
        assert callback.json is not None
        data: Payload = callback.json["data"]
        assert data["flags"] & EPHEMERAL and data["allowed_mentions"]["parse"] == []
        return data

    async def help(self, locale: str) -> Payload:
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MEMBER_ID, name="help", locale=locale
        )
        data = await self.answer(interaction)
        [embed] = data["embeds"]
        return dict(embed)

    async def video(self, user_id: int, locale: str = "en-US") -> tuple[int, SentInteraction, str]:
        """A member's /video: its job id, its interaction and the first status the bot wrote."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            name="video",
            options={"prompt": "a fox"},
            locale=locale,
        )
        status = (await self.status_edits(interaction, count=1))[0]
        found = re.search(r"\*\*[^*]*#(\d+)\*\*", status)  # "**job #12**", in the member's language
        assert found is not None, status
        return int(found[1]), interaction, status

    def edits_of(self, interaction: SentInteraction) -> list[str]:
        path = f"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original"
        edits = [request for request in self.fake.requests if request.method == "PATCH" and request.path == path]
        return [str(edit.json["content"]) for edit in edits]

    async def status_edits(self, interaction: SentInteraction, count: int, timeout: float = 10.0) -> list[str]:
        async with asyncio.timeout(timeout):
            while len(edits := self.edits_of(interaction)) < count:
                await asyncio.sleep(0.02)
        return edits

    async def presence(self, words: str, after: int = 0) -> int:
        """Wait until the bot's presence says `words`; the index of that presence in fake.presences."""
        shown = await self.fake.wait_for_presence(lambda presence: presence_words(presence) == words, after=after)
        return self.fake.presences.index(shown, after)


def presence_words(presence: Payload) -> str | None:
    """What a presence shows under the bot's name: its custom status."""
    activities = presence.get("activities") or []
    return next((activity.get("state") for activity in activities if activity.get("type") == 4), None)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@contextlib.asynccontextmanager
async def running_bot(database: Database, data_dir: Path) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    clock = SystemClock()
    backend = SlowStartingBackend(capacity=1)  # one job at a time: the next one waits, and its status says so
    media = MediaFiles(data_dir)
    runner = JobRunner(database=database, backend=backend, clock=clock, media=media)
    quota = QuotaPolicy(database=database, defaults=QuotaDefaults(credits=CREDITS, max_active_jobs=10), clock=clock)
    admission = JobAdmission(
        database=database,
        quota=quota,
        clock=clock,
        presets=PRESETS,
        served=lambda: backend.serves,
        default_preset_id="tiny",
        on_queued=runner.wake,
        start_failed=lambda: runner.start_failed,
    )
    bot = VideoBot(
        admission=admission,
        runner=runner,
        moderation=ModerationService(database=database, policy=quota, clock=clock),
        queue_control=QueueControl(database=database, clock=clock, on_resumed=runner.wake),
        server_rules=ServerRulesService(
            database=database, clock=clock, presets=PRESETS, on_changed=admission.rules.forget
        ),
        media=media,
        estimates=JobEstimates(database, clock),
        gallery=GalleryService(database=database, media=media, clock=clock),
        gallery_links=None,
        guild_id=GUILD_ID,
        status_timing=StatusTiming(refresh_every=EVERY),
        presence_every=EVERY,
        guild_ready_timeout=0.05,
    )
    try:
        async with connected_client(fake, bot):
            await fake.wait_until_ready(commands_synced=True)
            yield RunningBot(fake, bot, backend)
        assert fake.schema_violations() == []
    finally:
        await fake.stop()


async def test_while_the_model_loads_the_bot_answers_and_says_so_then_shows_the_queue(
    database: Database, tmp_path: Path
) -> None:
    async with running_bot(database, tmp_path) as running:
        await running.presence(LOADING)

        first, _, first_status = await running.video(MEMBER_ID)
        second, second_interaction, second_status = await running.video(OTHER_MEMBER_ID)
        loading_help = await running.help("en-US")

        waiting = text("status.model_loading")
        assert "position 1 in the queue" in first_status and waiting in first_status
        assert "position 2 in the queue" in second_status and waiting in second_status
        assert "Estimated" not in first_status + second_status
        assert text("help.loading") in loading_help["description"]
        assert running.backend.submitted == []  # queued and charged, waiting for the model

        running.backend.loaded()
        assert [spec.job_id for spec in await running.backend.wait_submitted(1)] == [first]
        ready = await running.presence(text("presence.queue", count=2))
        # The job still waiting gets an estimate in place of the loading note at its next refresh.
        refreshed = (await running.status_edits(second_interaction, count=2))[-1]
        assert "position 2 in the queue" in refreshed and text("status.estimating") in refreshed
        assert waiting not in refreshed
        assert text("help.loading") not in (await running.help("en-US"))["description"]

        running.backend.emit(Failed(first, Failure(FailureCode.RENDER_ERROR)))
        await running.backend.wait_submitted(2)
        running.backend.emit(Failed(second, Failure(FailureCode.RENDER_ERROR)))
        await running.presence(text("presence.queue", count=0), after=ready)

        shown = [presence_words(presence) for presence in running.fake.presences]
        assert shown.index(LOADING) < shown.index(text("presence.queue", count=2))
        assert all(earlier != later for earlier, later in itertools.pairwise(shown))  # sent when it changed


async def test_a_model_that_cannot_load_fails_and_refunds_the_waiting_videos_in_their_language_then_stops_the_bot(
    database: Database, tmp_path: Path
) -> None:
    """Nobody is left waiting, charged, for a model that will not load: each status says so in its member's language
    before the bot stops (bot.app.run_bot then raises why, and `python -m bot` exits with status 2)."""
    async with running_bot(database, tmp_path) as running:
        vietnamese, vietnamese_interaction, _ = await running.video(MEMBER_ID, locale="vi")
        english, english_interaction, _ = await running.video(OTHER_MEMBER_ID)

        running.backend.loaded(failure=RuntimeError("the model does not fit"))

        async with asyncio.timeout(10):
            while not running.bot.is_closed():
                await asyncio.sleep(0.02)
        assert str(running.bot.start_failure) == "the model does not fit"
        assert running.bot.runner.start_failed and running.backend.submitted == []
        cost = default_clip_cost(PRESETS["tiny"])
        unavailable = Failure(FailureCode.WORKER_UNAVAILABLE, {"error": "the model does not fit"})
        for job_id, interaction, locale in (
            (vietnamese, vietnamese_interaction, "vi"),
            (english, english_interaction, "en-US"),
        ):
            # The status's last word, before the bot stopped (a refresh of its place in the queue may come first).
            assert running.edits_of(interaction)[-1] == text(
                "status.failed",
                locale,
                job_id=job_id,
                reason=failure_text(unavailable, locale),
                refund=text("status.refunded", locale, credits=cost),
            )


async def test_help_explains_video_credits_buttons_and_the_gallery_in_the_members_language(
    database: Database, tmp_path: Path
) -> None:
    async with running_bot(database, tmp_path) as running:
        running.backend.loaded()
        await running.bot.runner.started()

        english = await running.help("en-US")
        fields = {field["name"]: field["value"] for field in english["fields"]}
        assert english["title"] == text("help.title")
        assert text("help.loading") not in english["description"]
        video = fields["/video"]
        [synced] = [command for command in running.fake.synced_commands if command["name"] == "video"]
        synced_options = [option["name"] for option in synced["options"]]
        assert {"prompt", "negative_prompt", "seed", "preset"} <= set(synced_options)
        for option in synced_options:  # every option /video has, with its own description
            assert f"`{option}` · " in video, option
        assert "--ar 9:16" in fields[text("help.flags_title")] and "--no" in fields[text("help.flags_title")]
        credits = fields[text("help.credits_title")]
        assert f"Here you get {CREDITS} credits (resets daily at 00:00 UTC); you have {CREDITS} left" in credits
        assert re.search(r"more come <t:\d+:R>", credits) and "`/quota me`" in credits
        buttons = fields[text("help.buttons_title")]
        assert all(f"**{button}**" in buttons for button in ("Star", "Reroll", "Details", "Delete"))
        assert "`/gallery optout` takes your videos out" in fields[text("help.gallery_title")]
        assert len(discord.Embed.from_dict(english)) <= EMBED_TOTAL_LIMIT

        # The member's locale picks the catalogue, and Discord's names for the commands in their language.
        vietnamese = await running.help("vi")
        assert vietnamese["title"] == text("help.title", "vi") != english["title"]
        assert vietnamese["description"] == text("help.intro", "vi") != english["description"]
        assert [field["name"] for field in vietnamese["fields"]] == [
            command_name("video", "vi"),
            *(text(f"help.{part}_title", "vi") for part in ("flags", "credits", "buttons", "gallery", "moderators")),
        ]
        assert not {field["value"] for field in english["fields"]} & {field["value"] for field in vietnamese["fields"]}
        assert (
            f"`{option_name('negative_prompt', 'vi')}` · {text('option.negative_prompt', 'vi')}"
            in (vietnamese["fields"][0]["value"])
        )
        assert len(discord.Embed.from_dict(vietnamese)) <= EMBED_TOTAL_LIMIT
