"""The distributed mode end to end below Discord: the bot's runner and database, a real redis-server, real GPU worker
processes (`python -m model worker`, tiny preset). Every job ends delivered exactly once or refunded exactly once,
whatever happens to the workers, to Redis or to the bot."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from common.states import JobState, LedgerKind
from db.models import Job, LedgerEntry
from jobs.quota_policy import MemberRef
from jobs.runner import CancelOutcome
from model.contract import RenderSpec
from tests.distributed.conftest import Bot, RedisServer, Workers, until
from tests.jobs.conftest import GUILD_ID, video_request


async def submit(bot: Bot, members: int, per_member: int) -> list[int]:
    """Each member's jobs in a row: member 1's, then member 2's, and so on."""
    ids = []
    for user_id in range(1, members + 1):
        for _ in range(per_member):
            ticket = await bot.admission.submit(bot.admission.validate(video_request(user_id=user_id)))
            ids.append(ticket.job.id)
    return ids


async def states(bot: Bot) -> dict[int, JobState]:
    async with bot.database.snapshot() as session:
        return {job.id: job.state for job in (await session.scalars(select(Job))).all()}


async def ledger(bot: Bot) -> Counter[tuple[int, LedgerKind]]:
    """How many ledger rows of each kind each job has."""
    async with bot.database.snapshot() as session:
        rows = await session.execute(
            select(LedgerEntry.job_id, LedgerEntry.kind, func.count()).group_by(LedgerEntry.job_id, LedgerEntry.kind)
        )
        return Counter({(job_id, kind): count for job_id, kind, count in rows.all() if job_id is not None})


async def all_finished(bot: Bot, job_ids: list[int], timeout: float) -> dict[int, JobState]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        now = await states(bot)
        if all(now[job_id] in {JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED} for job_id in job_ids):
            return now
        assert asyncio.get_running_loop().time() < deadline, f"jobs still unfinished: {now}"
        await asyncio.sleep(0.1)


async def assert_each_ended_once(bot: Bot, job_ids: list[int], timeout: float = 120) -> dict[int, JobState]:
    """Delivered exactly once (one post) or refunded exactly once; one reserve each."""
    final = await all_finished(bot, job_ids, timeout)
    posts = Counter(view.id for view in bot.observer.delivered)
    rows = await ledger(bot)
    for job_id in job_ids:
        assert rows[(job_id, LedgerKind.RESERVE)] == 1
        if final[job_id] is JobState.DELIVERED:
            assert posts[job_id] == 1, f"job {job_id} posted {posts[job_id]} times"
            assert rows[(job_id, LedgerKind.REFUND)] == 0
        else:
            assert posts[job_id] == 0
            assert rows[(job_id, LedgerKind.REFUND)] == 1
    return final


def record_hand_overs(bot: Bot) -> list[int]:
    handed: list[int] = []
    submit = bot.backend.submit

    async def recording(spec: RenderSpec) -> None:
        await submit(spec)
        handed.append(spec.job_id)

    bot.backend.submit = recording  # type: ignore[method-assign]
    return handed


def slow_tiny(tmp_path: Path, steps: int) -> dict[str, str]:
    """Worker settings for a tiny preset that takes `steps` steps: long enough to act on a job mid-render."""
    path = tmp_path / "presets.toml"
    path.write_text(f"[tiny]\ndefault_steps = {steps}\nmax_steps = {steps}\n", encoding="utf-8")
    return {"VIDEO_PRESETS_FILE": str(path)}


def rendering_now(redis: RedisServer) -> dict[int, int]:
    """job id -> the pid of the worker that announces it renders it."""
    return {job_id: pid for pid, jobs in redis.announcements().items() for job_id in jobs}


async def test_twenty_jobs_from_five_members_are_delivered_once_in_fair_order_over_two_workers(
    bot: Bot, workers: Workers
) -> None:
    pair = workers.start(2)
    bot.wire(served={"tiny"})
    job_ids = await submit(bot, members=5, per_member=4)
    handed = record_hand_overs(bot)
    await bot.runner.start(bot.observer)

    final = await assert_each_ended_once(bot, job_ids)

    assert set(final.values()) == {JobState.DELIVERED}
    by_member = [job_ids[member * 4 : member * 4 + 4] for member in range(5)]
    assert handed == [by_member[member][turn] for turn in range(4) for member in range(5)]  # round-robin
    rendered = [pair[0].rendered_jobs(), pair[1].rendered_jobs()]
    assert sorted(rendered[0] + rendered[1]) == sorted(job_ids)  # each rendered once
    assert rendered[0] and rendered[1], "both workers took jobs"
    for view in bot.observer.delivered:  # the files came back through Redis: no shared disk
        assert view.video is not None
        assert (bot.data_dir / view.video.key).stat().st_size == view.video.bytes
    # Each render's preview of its first step came through Redis too, a JPEG.
    assert {preview.job_id for preview in bot.observer.previews} == set(job_ids)
    assert all(preview.image.startswith(b"\xff\xd8") for preview in bot.observer.previews)
    for worker in pair:
        assert not list((workers.folder / worker.name / "media").glob("*.mp4")), "the worker keeps no clip"


async def test_a_worker_killed_mid_job_leaves_its_job_delivered_once_by_the_other(
    bot: Bot, workers: Workers, redis_server: RedisServer, tmp_path: Path
) -> None:
    pair = workers.start(2, **slow_tiny(tmp_path, steps=30))
    bot.wire(presets_file=tmp_path / "presets.toml")
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 2, 10, "both workers")
    job_ids = await submit(bot, members=3, per_member=1)

    while not (running := rendering_now(redis_server)):
        await asyncio.sleep(0.02)
    victim_job, victim_pid = next(iter(running.items()))
    victim = next(worker for worker in pair if worker.process.pid == victim_pid)
    victim.kill()

    final = await assert_each_ended_once(bot, job_ids)
    assert set(final.values()) == {JobState.DELIVERED}  # QUEUE_MAX_ATTEMPTS is 2: the retry delivered it
    survivor = next(worker for worker in pair if worker is not victim)
    assert victim_job in survivor.rendered_jobs()
    async with bot.database.snapshot() as session:
        assert (await session.get(Job, victim_job)).attempts == 2  # type: ignore[union-attr]


async def test_a_redis_restart_mid_run_loses_nothing(bot: Bot, workers: Workers, redis_server: RedisServer) -> None:
    workers.start(2)
    bot.wire(served={"tiny"})
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 2, 10, "both workers")
    job_ids = await submit(bot, members=4, per_member=3)
    await until(lambda: len(bot.observer.delivered) >= 2, 60, "the first posts")

    redis_server.kill()  # persistence is off: the queue, the announcements and the stream are gone
    more = await submit(bot, members=2, per_member=1)  # members can still queue: jobs wait in the database
    await asyncio.sleep(1.5)
    redis_server.start()

    final = await assert_each_ended_once(bot, job_ids + more, timeout=180)
    assert set(final.values()) == {JobState.DELIVERED}


async def test_cancel_takes_a_waiting_job_out_and_stops_a_rendering_one(
    bot: Bot, workers: Workers, redis_server: RedisServer, tmp_path: Path
) -> None:
    (worker,) = workers.start(1, **slow_tiny(tmp_path, steps=200))
    bot.wire(presets_file=tmp_path / "presets.toml")
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 1, 10, "the worker")
    rendering, waiting = await submit(bot, members=2, per_member=1)
    # The second is claimed for the worker's second slot a moment after the first: on a busy machine, later.
    while rendering not in rendering_now(redis_server) or (await states(bot))[waiting] is not JobState.RUNNING:
        await asyncio.sleep(0.02)

    assert await bot.runner.cancel(waiting) is CancelOutcome.STOPPING  # handed to arq, not started
    assert await bot.runner.cancel(rendering) is CancelOutcome.STOPPING

    final = await assert_each_ended_once(bot, [rendering, waiting], timeout=60)
    assert final == {rendering: JobState.CANCELLED, waiting: JobState.CANCELLED}
    assert worker.rendered_jobs() == []
    assert f"job {rendering} failed: cancelled" in worker.log
    assert f"job {waiting}" not in worker.log  # never started
    standing = await bot.admission.quota.standing(MemberRef(GUILD_ID, 1, frozenset()))
    assert standing.credits_left == 1000  # refunded


async def test_a_restarted_bot_resumes_the_jobs_its_workers_still_render(
    bot: Bot, workers: Workers, redis_server: RedisServer, tmp_path: Path
) -> None:
    (worker,) = workers.start(1, **slow_tiny(tmp_path, steps=30))
    bot.wire(presets_file=tmp_path / "presets.toml")
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 1, 10, "the worker")
    job_ids = await submit(bot, members=2, per_member=1)
    while not rendering_now(redis_server):
        await asyncio.sleep(0.02)

    await bot.runner.close()  # the worker renders on meanwhile
    await asyncio.sleep(1)
    bot.wire(presets_file=tmp_path / "presets.toml")
    await bot.runner.start(bot.observer)

    final = await assert_each_ended_once(bot, job_ids)
    assert set(final.values()) == {JobState.DELIVERED}
    assert sorted(worker.rendered_jobs()) == sorted(job_ids)  # nothing rendered twice
    async with bot.database.snapshot() as session:
        assert [job.attempts for job in (await session.scalars(select(Job))).all()] == [1, 1]


async def test_a_worker_stopped_twice_mid_job_hands_the_job_over_instead_of_refunding_it(
    bot: Bot, workers: Workers, redis_server: RedisServer, tmp_path: Path
) -> None:
    (first,) = workers.start(1, **slow_tiny(tmp_path, steps=200))
    bot.wire(presets_file=tmp_path / "presets.toml")
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 1, 10, "the worker")
    [job_id] = await submit(bot, members=1, per_member=1)
    while job_id not in rendering_now(redis_server):
        await asyncio.sleep(0.02)

    first.process.terminate()  # stop after this job...
    await asyncio.sleep(0.5)
    first.process.terminate()  # ...no: now
    assert first.process.wait(timeout=30) == 0
    assert f"job {job_id} failed: worker_crashed" in first.log
    workers.start(1, **slow_tiny(tmp_path, steps=2))

    final = await assert_each_ended_once(bot, [job_id])
    assert final == {job_id: JobState.DELIVERED}  # rendered by the next worker, charged once
