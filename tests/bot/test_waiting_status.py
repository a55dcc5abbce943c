"""What a member sees while their job waits: the first answer gives the position and an estimated start and finish,
and the status follows the queue (only when its words change) until the job starts or the token's time is up. Then,
while it renders, the live preview: the newest picture at most every PREVIEW_EDIT_INTERVAL, and as soon as it is due
even when nothing else changes, gone at the end.

The bot runs in-process against the fake Discord (real discord.py, real SQLite) with a scripted render backend
that renders one job at a time and a refresh every few tenths of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot import publisher
from bot.client import VideoBot
from bot.publisher import StatusTiming
from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from db.repositories.jobs import JobRepository
from jobs.admission import JobAdmission
from jobs.clock import SystemClock
from jobs.estimates import JobEstimates
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.moderation import ModerationService
from jobs.queue_control import QueueControl
from jobs.quota import QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.requests import VideoRequest
from jobs.runner import JobRunner
from jobs.server_rules import ServerRulesService
from model.contract import Failed, Preview, Progress
from model.presets import PRESETS
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    OTHER_MEMBER_ID,
    add_default_guild,
    connected_client,
)
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction
from tests.jobs.scripted_backend import ScriptedBackend

REFRESH_EVERY = 0.2
TYPICAL_SECONDS = 120.0  # the median of the history below
HISTORY = (60.0, 110.0, 120.0, 130.0, 900.0)
RENDER_ERROR = Failure(FailureCode.RENDER_ERROR)


@dataclass
class RunningBot:
    fake: FakeDiscord
    database: Database
    backend: ScriptedBackend

    async def video(self, user_id: int) -> tuple[int, SentInteraction, str]:
        """A member's /video: its job id, its interaction and the first answer's words."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id, name="video", options={"prompt": "a fox"}
        )
        answer = (await self.status_edits(interaction, count=1))[0]
        found = re.search(r"job #(\d+)", answer)
        assert found is not None, answer
        return int(found[1]), interaction, answer

    def edits_of(self, interaction: SentInteraction) -> list[str]:
        path = f"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original"
        edits = [request for request in self.fake.requests if request.method == "PATCH" and request.path == path]
        assert all(edit.json["allowed_mentions"]["parse"] == [] for edit in edits)
        return [str(edit.json["content"]) for edit in edits]

    async def status_edits(self, interaction: SentInteraction, count: int, timeout: float = 10.0) -> list[str]:
        async with asyncio.timeout(timeout):
            while len(edits := self.edits_of(interaction)) < count:
                await asyncio.sleep(0.02)
        return edits

    async def started_at(self, job_id: int) -> datetime:
        async with self.database.snapshot() as session:
            job = await JobRepository(session).get(job_id)
        assert job is not None and job.started_at is not None
        return job.started_at


async def delivered_history(database: Database, admission: JobAdmission, seconds: Sequence[float]) -> None:
    """Earlier tiny renders on this deployment, delivered, that took `seconds` each (before the runner starts)."""
    tickets = []
    for n, took in enumerate(seconds):
        request = VideoRequest(GUILD_ID, CHANNEL_ID, 900 + n, "earlier", {"prompt": "an earlier fox"})
        tickets.append((await admission.submit(admission.validate(request)), took))
    async with database.transaction() as session:
        for ticket, took in tickets:
            await JobRepository(session).move(
                ticket.job.id,
                from_states=(JobState.QUEUED,),
                to=JobState.DELIVERED,
                render_seconds=took - 1.0,
                encode_seconds=1.0,
            )


def relative(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def estimate(starts_at: datetime) -> str:
    return f"Estimated start {relative(starts_at)} · finish {relative(starts_at + timedelta(seconds=TYPICAL_SECONDS))}"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@contextlib.asynccontextmanager
async def running_bot(
    database: Database, data_dir: Path, timing: StatusTiming, history: Sequence[float] = HISTORY
) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    clock = SystemClock()
    backend = ScriptedBackend(capacity=1)  # the runner hands over one job at a time: the others wait in the queue
    runner = JobRunner(database=database, backend=backend, clock=clock, media=MediaFiles(data_dir))
    quota = QuotaPolicy(database=database, defaults=QuotaDefaults(credits=100, max_active_jobs=10), clock=clock)
    admission = JobAdmission(
        database=database,
        quota=quota,
        clock=clock,
        presets=PRESETS,
        served=lambda: backend.serves,
        default_preset_id="tiny",
        on_queued=runner.wake,
    )
    await delivered_history(database, admission, history)
    bot = VideoBot(
        admission=admission,
        runner=runner,
        moderation=ModerationService(database=database, policy=quota, clock=clock),
        queue_control=QueueControl(database=database, clock=clock, on_resumed=runner.wake),
        server_rules=ServerRulesService(
            database=database, clock=clock, presets=PRESETS, on_changed=admission.rules.forget
        ),
        media=MediaFiles(data_dir),
        estimates=JobEstimates(database, clock),
        gallery=GalleryService(database=database, media=MediaFiles(data_dir), clock=clock),
        gallery_links=None,
        guild_id=GUILD_ID,
        status_timing=timing,
        guild_ready_timeout=0.05,
    )
    try:
        async with connected_client(fake, bot):
            await fake.wait_until_ready(commands_synced=True)
            yield RunningBot(fake, database, backend)
        assert fake.schema_violations() == []
    finally:
        await fake.stop()


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(database, tmp_path, StatusTiming(refresh_every=REFRESH_EVERY)) as running:
        yield running


async def test_without_recent_renders_the_first_answer_says_estimating(database: Database, tmp_path: Path) -> None:
    async with running_bot(database, tmp_path, StatusTiming(refresh_every=REFRESH_EVERY), history=()) as bot:
        await bot.video(MEMBER_ID)
        await bot.backend.wait_submitted(1)

        _, _, answer = await bot.video(OTHER_MEMBER_ID)

        assert "position 2 in the queue" in answer
        assert "Estimated start and finish: estimating" in answer
        assert re.search(r"This message updates until <t:\d+:t>; after that, `/jobs list` shows", answer)


async def test_the_first_answer_gives_the_position_and_the_estimated_start_and_finish(bot: RunningBot) -> None:
    rendering, _, _ = await bot.video(MEMBER_ID)
    await bot.backend.wait_submitted(1)
    started_at = await bot.started_at(rendering)

    _, _, second = await bot.video(OTHER_MEMBER_ID)
    _, _, third = await bot.video(MODERATOR_ID)

    assert "position 2 in the queue" in second
    assert estimate(started_at + timedelta(seconds=TYPICAL_SECONDS)) in second
    assert "position 3 in the queue" in third
    assert estimate(started_at + timedelta(seconds=2 * TYPICAL_SECONDS)) in third


async def test_a_waiting_status_follows_the_queue_and_is_left_alone_when_nothing_changes(bot: RunningBot) -> None:
    ahead, _, _ = await bot.video(MEMBER_ID)
    await bot.backend.wait_submitted(1)
    next_up, next_status, _ = await bot.video(OTHER_MEMBER_ID)
    _, waiting_status, _ = await bot.video(MODERATOR_ID)

    await asyncio.sleep(5 * REFRESH_EVERY)  # refreshes come and go: nothing changed, so nothing is edited
    assert len(bot.edits_of(next_status)) == len(bot.edits_of(waiting_status)) == 1

    bot.backend.emit(Failed(ahead, RENDER_ERROR))  # the job ahead finishes: the next one starts, this one moves up
    await bot.backend.wait_submitted(2)
    first, moved_up = await bot.status_edits(waiting_status, count=2)

    assert "position 3 in the queue" in first
    assert "position 2 in the queue" in moved_up
    assert estimate(await bot.started_at(next_up) + timedelta(seconds=TYPICAL_SECONDS)) in moved_up
    # A refresh that read the queue between the failure's commit and the next claim's may have shown next_up at
    # position 1 for that moment; once it started, its progress, not the refresher, edits it.
    started_edits = len(bot.edits_of(next_status))
    assert started_edits in (1, 2)
    await asyncio.sleep(5 * REFRESH_EVERY)
    assert len(bot.edits_of(waiting_status)) == 2
    assert len(bot.edits_of(next_status)) == started_edits


async def test_no_edit_after_the_tokens_time_and_a_failure_is_told_in_the_channel(
    database: Database, tmp_path: Path
) -> None:
    edits_for = 4.0
    async with running_bot(database, tmp_path, StatusTiming(REFRESH_EVERY, timedelta(seconds=edits_for))) as bot:
        ahead, _, _ = await bot.video(MEMBER_ID)
        await bot.backend.wait_submitted(1)
        next_up, _, _ = await bot.video(OTHER_MEMBER_ID)
        waiting, status, answer = await bot.video(MODERATOR_ID)
        assert "position 3 in the queue" in answer
        await asyncio.sleep(edits_for + 0.5)  # past edits_for: Discord would refuse the token soon

        bot.backend.emit(Failed(ahead, RENDER_ERROR))  # it moves up, but its status is no longer edited
        await bot.backend.wait_submitted(2)
        await asyncio.sleep(5 * REFRESH_EVERY)
        bot.backend.emit(Failed(next_up, RENDER_ERROR))
        await bot.backend.wait_submitted(3)
        bot.backend.emit(Failed(waiting, RENDER_ERROR))
        told: RecordedRequest = await bot.fake.wait_for_request(
            "POST",
            rf"/channels/{CHANNEL_ID}/messages",
            predicate=lambda post: f"**Job #{waiting}**" in post.json["content"],
        )

        assert told.json["content"].startswith(f"<@{MODERATOR_ID}> **Job #{waiting}** failed")
        assert bot.edits_of(status) == [answer]


PREVIEW_INTERVAL = 2.0
"""PREVIEW_EDIT_INTERVAL in the preview's test (10 s in the bot)."""


def edits_with_images(bot: RunningBot, interaction: SentInteraction) -> list[RecordedRequest]:
    path = f"/webhooks/{bot.fake.application_id}/{interaction.token}/messages/@original"
    return [request for request in bot.fake.requests if request.path == path and request.files]


async def images_shown(bot: RunningBot, interaction: SentInteraction, count: int) -> list[RecordedRequest]:
    async with asyncio.timeout(10):
        while len(edits := edits_with_images(bot, interaction)) < count:
            await asyncio.sleep(0.02)
    return edits


def caption(step: int) -> str:
    return f"-# A rough look at the middle of your clip after step {step}: the finished video will be sharper."


async def test_the_newest_preview_replaces_the_last_at_most_every_interval_and_the_end_takes_it_away(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher, "PREVIEW_EDIT_INTERVAL", PREVIEW_INTERVAL)
    job_id, interaction, _ = await bot.video(MEMBER_ID)
    await bot.backend.wait_submitted(1)
    bot.backend.emit(Progress(job_id, 1, 30, 2.0))
    bot.backend.emit(Preview(job_id, 1, b"first"))
    [first] = await images_shown(bot, interaction, 1)
    bot.backend.emit(Preview(job_id, 2, b"too soon"))  # within the interval: kept for later, not shown
    bot.backend.emit(Preview(job_id, 3, b"newest"))  # replaces it, and goes out once due, though nothing else happens
    second = (await images_shown(bot, interaction, 2))[1]
    assert second.at - first.at >= PREVIEW_INTERVAL

    for edit, step, image in ((first, 1, b"first"), (second, 3, b"newest")):
        [upload] = edit.files
        assert (upload.filename, upload.data) == ("preview.jpg", image)
        assert edit.json["content"].startswith(f"Rendering **job #{job_id}**: step 1 of 30")
        assert edit.json["content"].endswith(caption(step))
        assert edit.json["attachments"][0]["description"] == caption(step).removeprefix("-# ")
    assert len(edits_with_images(bot, interaction)) == 2
    shown = bot.fake.original_response(interaction)
    assert shown is not None and [attachment["filename"] for attachment in shown["attachments"]] == ["preview.jpg"]

    bot.backend.emit(Preview(job_id, 4, b"cut short"))  # waits to be due, but the job ends first
    bot.backend.emit(Failed(job_id, Failure(FailureCode.RENDER_ERROR)))
    await bot.fake.wait_for_request(
        "PATCH",
        rf"/webhooks/.*/{interaction.token}/messages/@original",
        predicate=lambda r: "failed" in r.json["content"],
    )
    status = bot.fake.original_response(interaction)
    assert status is not None and status["attachments"] == []
    assert "rough look" not in status["content"]
    bot.backend.emit(Preview(job_id, 5, b"after the end"))  # a finished job's status takes no more pictures
    await asyncio.sleep(PREVIEW_INTERVAL + 5 * REFRESH_EVERY)  # past when "cut short" would have been due
    assert len(edits_with_images(bot, interaction)) == 2
