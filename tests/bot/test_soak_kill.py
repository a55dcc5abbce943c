"""Local mode under repeated SIGKILL (issue 11): every accepted job ends delivered once or refunded once.

`python -m bot` (real discord.py, the real render worker, real SQLite) against the fake Discord: 5 members send
12 /video jobs, and the bot is SIGKILLed three times, each at a moment picked by what it is doing, and started
again each time:

1. while jobs are queued: right after the first batch is admitted and one of its queued jobs is cancelled (and
   refunded) by its requester. Only the bot dies: its orphaned render worker must see that and exit by itself (it
   may finish the clip it has, which the next bot then posts).
2. while a job renders: on that job's first progress edit, the bot and its worker together, as `docker kill` or
   an OOM kill of the whole group would; the render is cut mid-way.
3. while a clip is being posted: the fake makes the post but holds its answer, so the bot dies with the message
   made and not on record. Only the bot dies.

The last bot runs until every job is finished. Then the channel and the database must agree: each job posted once
or refunded once, nothing left half-way, each member charged exactly for what was delivered. A restart waits out
the dead bot's database lease (up to 30 s), which is most of this test's time. The default suite skips it: run it
with `./scripts/test -m soak`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bot.bot_process import BotProcess, bot_environment, descendants, is_alive
from tests.fake_discord.message_events import is_ephemeral
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.soak

GUILD_ID = 710_000_000_000_000_001
CHANNEL_ID = 710_000_000_000_000_002
MEMBERS = tuple(710_000_000_000_000_011 + n for n in range(5))
FIRST_BATCH, SECOND_BATCH = 8, 4  # sent before the first kill, and to the second bot
DAILY_CREDITS = 10  # more than any member spends: no job is refused
FINISHED = ("delivered", "failed", "cancelled")
START_TIMEOUT = 120.0  # a restarted bot waits out its dead predecessor's lease (up to 31 s), then starts its worker
SETTLE_TIMEOUT = 60.0  # for the last bot to finish the few jobs left: seconds of work on a CPU
ORPHAN_TIMEOUT = 20.0  # the worker checks on its parent every second, and ends the step it is in
CLIP_TITLE = re.compile(r"job #(\d+)$")  # the embed's title: "AI-generated video · job #12"
RENDERING = re.compile(r"^Rendering \*\*job #(\d+)\*\*: step")


@dataclass(frozen=True)
class JobRow:
    id: int
    user_id: int
    state: str
    cost: int
    message_id: int | None
    attempts: int
    failure_code: str | None


@dataclass(frozen=True)
class LedgerRow:
    job_id: int | None
    guild_id: int
    user_id: int
    kind: str
    delta: int


class Soak:
    """The fake, the bot processes one after another, and read-only looks at their database."""

    def __init__(self, fake: FakeDiscord, workdir: Path) -> None:
        self.fake = fake
        self.workdir = workdir
        self.database = workdir / "bot.db"
        self.environment = bot_environment(
            fake,
            workdir,
            DISCORD_GUILD_ID=str(GUILD_ID),
            QUOTA_DAILY_CREDITS=str(DAILY_CREDITS),
            QUOTA_MAX_ACTIVE_JOBS=str(DAILY_CREDITS),
            LOG_LEVEL="INFO",  # DEBUG logs every SQLite call: slower, and no help here
        )
        self.runs: list[BotProcess] = []
        self.submitted = 0
        self.kills: list[str] = []

    @property
    def bot(self) -> BotProcess:
        return self.runs[-1]

    async def start_bot(self) -> None:
        process = BotProcess(self.environment, self.workdir)
        self.runs.append(process)
        await process.start()

    async def ready(self) -> None:
        await self.bot.wait_for_log("logged in as", timeout=START_TIMEOUT)

    async def submit(self, count: int) -> list[SentInteraction]:
        """`count` /video jobs at once from the members in turn; returns once all are admitted (charged, queued)."""
        first = self.submitted
        self.submitted += count
        interactions = await asyncio.gather(
            *(
                self.fake.send_slash_command(
                    guild_id=GUILD_ID,
                    channel_id=CHANNEL_ID,
                    user_id=MEMBERS[n % len(MEMBERS)],
                    name="video",
                    options={"prompt": f"a paper boat on a pond, take {n}", "seed": n},
                )
                for n in range(first, self.submitted)
            )
        )
        await self.until(lambda jobs: len(jobs) == self.submitted, f"{self.submitted} jobs admitted", timeout=30)
        return list(interactions)

    async def cancel_last_queued(self, interactions: Iterable[SentInteraction]) -> int:
        """Its requester clicks Cancel on the status of the last job still queued; returns that job once cancelled."""
        job_id = max(job.id for job in self.jobs() if job.state == "queued")
        custom_id = f"cancel:{job_id}"
        deadline = time.monotonic() + 10
        while True:  # the status shows the button once the bot has written "Queued" into it
            shown = [
                (interaction, message)
                for interaction in interactions
                if (message := self.fake.original_response(interaction)) is not None
                and custom_id in str(message.get("components"))
            ]
            if shown:
                break
            assert time.monotonic() < deadline, f"no status message shows {custom_id}"
            await asyncio.sleep(0.05)
        [(interaction, message)] = shown
        await self.fake.click_button(
            message=message, custom_id=custom_id, guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=interaction.user_id
        )
        await self.until(
            lambda jobs: any(job.id == job_id and job.state in FINISHED for job in jobs), f"job #{job_id} cancelled", 15
        )
        return job_id

    async def kill(self, moment: str, *, with_worker: bool) -> tuple[set[int], dict[int, JobRow]]:
        """SIGKILL the bot (and its worker with it, or not); returns the processes it had below it and its jobs."""
        below = descendants(self.bot.pid)
        assert below, f"the bot has no render worker to kill:\n{self.bot.output}"
        os.kill(self.bot.pid, signal.SIGKILL)
        if with_worker:
            for pid in below:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert await self.bot.wait() == -signal.SIGKILL
        jobs = {job.id: job for job in self.jobs()}
        states = Counter(job.state for job in jobs.values())
        self.kills.append(f"{moment} ({', '.join(f'{count} {state}' for state, count in sorted(states.items()))})")
        return below, jobs

    async def until_gone(self, pids: Iterable[int], what: str) -> None:
        deadline = time.monotonic() + ORPHAN_TIMEOUT
        while alive := [pid for pid in pids if is_alive(pid)]:
            assert time.monotonic() < deadline, f"{what}: {alive} still running after {ORPHAN_TIMEOUT} s"
            await asyncio.sleep(0.1)

    async def until(self, done: Callable[[list[JobRow]], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done(jobs := self.jobs()):
            if time.monotonic() > deadline:
                states = {job.id: job.state for job in jobs}
                raise AssertionError(f"not {what} within {timeout} s (jobs: {states}); the bot:\n{self.bot.output}")
            if self.bot.returncode is not None:
                raise AssertionError(f"the bot exited with {self.bot.returncode}:\n{self.bot.output}")
            await asyncio.sleep(0.05)

    def jobs(self) -> list[JobRow]:
        query = "SELECT id, user_id, state, cost, message_id, attempts, failure_code FROM jobs ORDER BY id"
        return [JobRow(*row) for row in self._read(query)]

    def ledger(self) -> list[LedgerRow]:
        return [
            LedgerRow(*row)
            for row in self._read("SELECT job_id, guild_id, user_id, kind, delta FROM credit_ledger ORDER BY id")
        ]

    def manifest_exists(self, job_id: int) -> bool:
        return (self.workdir / "data" / "media" / f"{job_id}.json").exists()

    def _read(self, query: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as database:
            return database.execute(query).fetchall()


def job_of_post(message: dict[str, Any]) -> int | None:
    """The job a clip post (a message, or a request's body) names in its embed; None for other messages."""
    embeds = message.get("embeds") or []
    if not embeds or is_ephemeral(message):
        return None  # a failure notice, another plain message, or a requester's status with its settings
    [embed] = embeds
    title = CLIP_TITLE.search(str(embed.get("title", "")))
    assert title is not None, f"a post whose embed names no job: {embed}"
    return int(title[1])


def clip_posts(messages: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """The channel's clip posts by the job their embed names, each checked to carry that job's file."""
    posts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        job_id = job_of_post(message)
        if job_id is not None:
            filenames = [attachment["filename"] for attachment in message["attachments"]]
            assert filenames == [f"video-{job_id}.mp4"], message
            posts[job_id].append(message)
    return posts


def is_clip_post(request: RecordedRequest) -> bool:
    return bool(request.files)


def rendering_job(request: RecordedRequest) -> int | None:
    match = RENDERING.match((request.json or {}).get("content") or "")
    return None if match is None else int(match[1])


async def test_sigkilled_three_times_every_job_is_delivered_or_refunded_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD_ID, name="Soak Club", owner_id=MEMBERS[0], channels=[CHANNEL_ID])
    for n, member in enumerate(MEMBERS):
        fake.add_member(GUILD_ID, member, name=f"Member {n}")
    soak = Soak(fake, tmp_path)
    try:
        # 1. Killed while jobs are queued (one of them cancelled first); its orphaned worker must exit by itself.
        await soak.start_bot()
        await soak.ready()
        cancelled = await soak.cancel_last_queued(await soak.submit(FIRST_BATCH))
        orphans, at_kill = await soak.kill("while jobs were queued", with_worker=False)
        assert [job for job in at_kill.values() if job.state == "queued"], f"nothing was queued at the kill: {at_kill}"
        await soak.start_bot()  # it waits out the dead bot's lease meanwhile
        await soak.until_gone(orphans, "the render worker outlived its SIGKILLed bot")

        # 2. Killed with its worker while a job renders (a job sent to this bot: its status shows the steps).
        await soak.ready()
        mark = len(fake.requests)
        tokens = "|".join(re.escape(interaction.token) for interaction in await soak.submit(SECOND_BATCH))
        progress = await fake.wait_for_request(
            "PATCH",
            rf"/webhooks/{fake.application_id}/(?:{tokens})/messages/@original$",
            predicate=lambda request: rendering_job(request) is not None,
            after=mark,
            timeout=60,
        )
        rendering = rendering_job(progress)
        assert rendering is not None
        orphans, at_kill = await soak.kill(f"with its worker while job #{rendering} rendered", with_worker=True)
        assert at_kill[rendering].state == "running" and not soak.manifest_exists(rendering), at_kill[rendering]
        # Held from the start: a clip recovered from the last run is posted before the bot has logged in.
        held = fake.hold_answers("POST", rf"/channels/{CHANNEL_ID}/messages$", predicate=is_clip_post)
        await soak.start_bot()
        await soak.until_gone(orphans, "the render worker survived a SIGKILL")

        # 3. Killed while a clip is posted: Discord made the message, the bot never heard back.
        post = await held.wait_held(timeout=START_TIMEOUT)
        posting = job_of_post(post.json)
        assert posting is not None, post.json
        orphans, at_kill = await soak.kill(f"while job #{posting} was posted", with_worker=False)
        held.release()
        assert at_kill[posting].state == "rendered", at_kill[posting]
        await soak.start_bot()
        await soak.until_gone(orphans, "the render worker outlived its SIGKILLed bot")

        # 4. The last bot finishes everything.
        await soak.ready()
        await soak.until(
            lambda jobs: all(job.state in FINISHED for job in jobs), "every job finished", timeout=SETTLE_TIMEOUT
        )
        assert await soak.bot.stop() == 0
    finally:
        for n, run in enumerate(soak.runs, start=1):
            await run.stop()
            (tmp_path / f"bot-{n}.log").write_text(run.output)  # kept with pytest's temporary folders
        await fake.stop()

    jobs = soak.jobs()
    ledger = soak.ledger()
    posts = clip_posts(fake.messages_in(CHANNEL_ID))
    assert len(jobs) == FIRST_BATCH + SECOND_BATCH
    assert Counter(job.user_id for job in jobs) == Counter(MEMBERS[n % len(MEMBERS)] for n in range(len(jobs)))
    assert [job for job in jobs if job.state not in FINISHED] == []
    assert {job.id: job.state for job in jobs}[cancelled] == "cancelled"  # refunded below, and never posted
    # The channel: each delivered job posted once (the message on record), nothing posted for the others.
    assert set(posts) <= {job.id for job in jobs}, f"posts for jobs that do not exist: {sorted(posts)}"
    for job in jobs:
        posted = [message["id"] for message in posts.get(job.id, [])]
        expected = [str(job.message_id)] if job.state == "delivered" else []
        assert posted == expected, f"job #{job.id} is {job.state} (message {job.message_id}); posted as {posted}"
    # The ledger: one reservation per job, a refund for each job not delivered and for no other.
    assert {row.kind for row in ledger} <= {"reserve", "refund"}
    by_job: dict[int | None, list[LedgerRow]] = defaultdict(list)
    for row in ledger:
        by_job[row.job_id].append(row)
    assert set(by_job) == {job.id for job in jobs}, "ledger rows for no job, or a job never charged"
    for job in jobs:
        rows = by_job[job.id]
        assert {(row.guild_id, row.user_id) for row in rows} == {(GUILD_ID, job.user_id)}
        reserves = [row.delta for row in rows if row.kind == "reserve"]
        refunds = [row.delta for row in rows if row.kind == "refund"]
        assert reserves == [-job.cost], (job, rows)
        assert refunds == ([] if job.state == "delivered" else [job.cost]), (job, rows)
    # What each member spent is what was delivered to them.
    for member in MEMBERS:
        spent = -sum(row.delta for row in ledger if row.user_id == member)
        assert spent == sum(job.cost for job in jobs if job.user_id == member and job.state == "delivered"), member
    assert fake.schema_violations() == []

    outcomes = Counter(job.state + (f" ({job.failure_code})" if job.state == "failed" else "") for job in jobs)
    with capsys.disabled():
        print(
            f"\nsoak: {len(jobs)} jobs from {len(MEMBERS)} members, {len(soak.kills)} SIGKILLs: "
            + "; ".join(soak.kills)
            + f"; ended {dict(outcomes)}; took {time.monotonic() - began:.0f} s"
        )
