"""ArqBackend against a real Redis, with the workers' side written by the test: what a hostile or broken worker
(or anyone who can write to Redis) sends, and the races between the events stream and arq's results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.constants import in_progress_key_prefix, result_key_prefix
from arq.jobs import serialize_result

from common.failures import FailureCode
from model.contract import MAX_PREVIEW_BYTES, Done, Failed, Preview, RenderEvent, RenderResult, RenderSpec, VideoFile
from model.distributed.backend import ArqBackend
from model.distributed.wire import (
    EVENTS_STREAM,
    WorkerInfo,
    arq_job_id,
    dumps,
    event_to_data,
    media_key,
    queue_name,
    worker_key,
)
from tests.distributed.conftest import ANNOUNCE_SECONDS, RedisServer, until
from tests.model.specs import tiny_spec

TINY = frozenset({"tiny"})


class Fixture:
    def __init__(self, backend: ArqBackend, redis: RedisServer, data_dir: Path) -> None:
        self.backend = backend
        self.client = redis.client()
        self.data_dir = data_dir
        self.events: list[RenderEvent] = []

    def announce(self, worker_id: str, jobs: frozenset[str] = frozenset(), presets: frozenset[str] = TINY) -> None:
        info = WorkerInfo(worker_id, queue_name(presets), presets, jobs)
        self.client.set(worker_key(worker_id), dumps(info.to_data()), px=60_000)  # dies when the test says

    def done(self, spec: RenderSpec, *, video_key: str, poster_key: str) -> Done:
        arq_id = arq_job_id(spec.job_id, spec.attempt)
        self.client.set(media_key(arq_id, "mp4"), b"an mp4")
        self.client.set(media_key(arq_id, "jpg"), b"a poster")
        return Done(
            spec.job_id,
            RenderResult(VideoFile(video_key, 6, 64, 64, 9, 8), poster_key, render_seconds=1.0, encode_seconds=0.1),
        )

    def publish(self, arq_id: str, event: RenderEvent) -> None:
        self.client.xadd(EVENTS_STREAM, {"arq_id": arq_id, "event": dumps(event_to_data(event))})

    def store_result(self, arq_id: str, result: object) -> None:
        raw = serialize_result("render", (), {}, 1, 0, True, result, 0, 0, arq_id, "q", arq_id, serializer=dumps)
        assert raw is not None
        self.client.set(result_key_prefix + arq_id, raw)


@pytest.fixture
async def fixture(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Fixture]:
    backend = ArqBackend(redis_server.url, data_dir=tmp_path / "data", announce_seconds=ANNOUNCE_SECONDS)
    fixture = Fixture(backend, redis_server, tmp_path / "data")
    fixture.announce("worker-a")
    await backend.start()

    async def collect() -> None:
        async for event in backend.events():
            fixture.events.append(event)

    collecting = asyncio.create_task(collect())
    await until(lambda: backend.capacity == 2, 10, "the worker")
    yield fixture
    await backend.close()
    await collecting
    fixture.client.close()


def outcomes(fixture: Fixture, job_id: int) -> list[RenderEvent]:
    return [event for event in fixture.events if isinstance(event, Done | Failed) and event.job_id == job_id]


async def test_files_go_where_the_bot_says_whatever_the_worker_names(fixture: Fixture, tmp_path: Path) -> None:
    spec = tiny_spec(job_id=7)
    await fixture.backend.submit(spec)
    outside = tmp_path / "outside.mp4"
    done = fixture.done(spec, video_key=str(outside), poster_key="../../poster.jpg")

    fixture.publish(arq_job_id(7, 1), done)
    await until(lambda: outcomes(fixture, 7), 10, "the outcome")

    [taken] = outcomes(fixture, 7)
    assert isinstance(taken, Done)
    assert (taken.result.video.key, taken.result.poster_key) == ("media/7.mp4", "media/7.jpg")
    assert (fixture.data_dir / "media" / "7.mp4").read_bytes() == b"an mp4"
    assert (fixture.data_dir / "media" / "7.json").is_file()  # the manifest, for a restart
    assert not outside.exists() and not (tmp_path / "poster.jpg").exists()
    assert fixture.client.get(media_key(arq_job_id(7, 1), "mp4")) is None  # taken out of Redis


async def test_an_outcome_both_streamed_and_stored_by_arq_ends_the_job_once(fixture: Fixture) -> None:
    spec = tiny_spec(job_id=8)
    await fixture.backend.submit(spec)
    arq_id = arq_job_id(8, 1)
    done = fixture.done(spec, video_key="media/8.mp4", poster_key="media/8.jpg")
    fixture.store_result(arq_id, event_to_data(done))  # the watch finds it...
    fixture.publish(arq_id, done)  # ...and the reader gets it, at about the same time

    await until(lambda: outcomes(fixture, 8), 10, "the outcome")
    await asyncio.sleep(2 * ANNOUNCE_SECONDS)  # several watch passes later
    assert [type(event) for event in outcomes(fixture, 8)] == [Done]


async def test_malformed_news_is_ignored_and_the_backend_goes_on(fixture: Fixture) -> None:
    spec = tiny_spec(job_id=9)
    await fixture.backend.submit(spec)
    arq_id = arq_job_id(9, 1)
    fixture.client.xadd(EVENTS_STREAM, {"arq_id": arq_id, "event": b"{not json"})
    fixture.client.xadd(EVENTS_STREAM, {"arq_id": arq_id, "event": b"[" * 100_000})  # too deep to parse
    fixture.client.xadd(EVENTS_STREAM, {"arq_id": arq_id, "event": b'{"kind": "done", "job_id": 9, "result": 1e999}'})
    fixture.client.set(worker_key("garbage"), b"\xff\xfe")
    await asyncio.sleep(1.5 * ANNOUNCE_SECONDS)
    assert outcomes(fixture, 9) == []

    fixture.publish(arq_id, fixture.done(spec, video_key="media/9.mp4", poster_key="media/9.jpg"))
    await until(lambda: outcomes(fixture, 9), 10, "the outcome after the garbage")


async def test_a_preview_crosses_redis_as_it_was_and_a_malformed_one_is_ignored(fixture: Fixture) -> None:
    spec = tiny_spec(job_id=11)
    await fixture.backend.submit(spec)
    arq_id = arq_job_id(11, 1)
    image = bytes(range(256)) * 40  # not text: it crosses JSON as base64
    too_large = {"kind": "preview", "job_id": 11, "step": 2, "image": "A" * (4 * MAX_PREVIEW_BYTES // 3 + 8)}
    for malformed in (
        {"kind": "preview", "job_id": 11, "step": 2, "image": "not base64!"},
        {"kind": "preview", "job_id": 11, "step": "2", "image": ""},
        too_large,
    ):
        fixture.client.xadd(EVENTS_STREAM, {"arq_id": arq_id, "event": dumps(malformed)})
    fixture.publish(arq_id, Preview(11, 3, image))

    await until(lambda: previews(fixture, 11), 10, "the preview")
    assert previews(fixture, 11) == [Preview(11, 3, image)]


def previews(fixture: Fixture, job_id: int) -> list[RenderEvent]:
    return [event for event in fixture.events if isinstance(event, Preview) and event.job_id == job_id]


async def test_an_unreadable_arq_result_hands_the_job_over_again(fixture: Fixture) -> None:
    spec = tiny_spec(job_id=10)
    await fixture.backend.submit(spec)
    fixture.client.set(result_key_prefix + arq_job_id(10, 1), b"\x80not json")

    await until(lambda: outcomes(fixture, 10), 10, "the outcome")
    [failed] = outcomes(fixture, 10)
    assert isinstance(failed, Failed) and failed.failure.code is FailureCode.WORKER_CRASHED  # retried by the runner


async def test_a_job_whose_worker_stops_announcing_it_is_given_up_once(fixture: Fixture) -> None:
    spec = tiny_spec(job_id=11)
    await fixture.backend.submit(spec)
    arq_id = arq_job_id(11, 1)
    fixture.client.set(in_progress_key_prefix + arq_id, b"1")  # a worker took it...
    fixture.announce("worker-a", jobs=frozenset({arq_id}))
    await asyncio.sleep(ANNOUNCE_SECONDS)
    fixture.client.delete(worker_key("worker-a"))  # ...and died

    await until(lambda: outcomes(fixture, 11), 10 * ANNOUNCE_SECONDS, "the job given up")
    [failed] = outcomes(fixture, 11)
    assert isinstance(failed, Failed) and failed.failure.code is FailureCode.WORKER_CRASHED
    assert fixture.client.exists(in_progress_key_prefix + arq_id) == 0  # arq will not run the dead attempt


async def test_a_job_waiting_on_a_queue_whose_workers_are_gone_moves_to_one_with_workers(fixture: Fixture) -> None:
    both = frozenset({"tiny", "tiny-b"})
    fixture.client.delete(worker_key("worker-a"))
    fixture.announce("worker-b", presets=both)
    await until(lambda: fixture.backend.serves == both, 10, "worker b alone")
    spec = tiny_spec(job_id=12)
    await fixture.backend.submit(spec)
    assert fixture.client.zscore(queue_name(both), arq_job_id(12, 1)) is not None

    fixture.client.delete(worker_key("worker-b"))
    fixture.announce("worker-a")  # serves tiny alone, on another queue

    async def moved() -> bool:
        return fixture.client.zscore(queue_name(TINY), arq_job_id(12, 1)) is not None

    deadline = asyncio.get_running_loop().time() + 10 * ANNOUNCE_SECONDS
    while not await moved():
        assert asyncio.get_running_loop().time() < deadline, "the job stayed on the dead queue"
        fixture.announce("worker-a")
        await asyncio.sleep(0.2)
    assert fixture.client.zscore(queue_name(both), arq_job_id(12, 1)) is None
    assert outcomes(fixture, 12) == []  # moved, not failed: it never started
