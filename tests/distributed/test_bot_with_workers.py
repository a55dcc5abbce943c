"""`python -m bot` with QUEUE_URL, as an operator runs it, against the fake Discord and a real GPU worker process:
/video is answered, rendered on the worker, its file carried back through Redis and posted with its credit."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import av

from tests.bot.bot_process import BotProcess, bot_environment
from tests.distributed.conftest import ANNOUNCE_SECONDS, RedisServer, Workers
from tests.fake_discord.server import FakeDiscord

GUILD_ID = 710_000_000_000_000_001
CHANNEL_ID = 710_000_000_000_000_002
ALICE = 710_000_000_000_000_011


async def test_a_video_is_rendered_on_a_gpu_worker_and_posted(
    redis_server: RedisServer, workers: Workers, tmp_path: Path
) -> None:
    (worker,) = workers.start(1)
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD_ID, name="Film Club", owner_id=ALICE, channels=[CHANNEL_ID])
    fake.add_member(GUILD_ID, ALICE, name="Alice", roles=[])
    workdir = tmp_path / "bot"
    process = BotProcess(
        bot_environment(
            fake,
            workdir,
            DISCORD_GUILD_ID=str(GUILD_ID),
            QUEUE_URL=redis_server.url,
            QUEUE_WORKER_ANNOUNCE_SECONDS=str(ANNOUNCE_SECONDS),
        ),
        workdir,
    )
    await process.start()
    try:
        await fake.wait_until_ready(timeout=60)
        await process.wait_for_log("GPU worker")  # it has seen the worker announce itself
        interaction = await fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=ALICE, name="video", options={"prompt": "a red kite"}
        )
        post = await fake.wait_for_request("POST", rf"/channels/{CHANNEL_ID}/messages", timeout=60)
        [upload] = post.files
        with av.open(io.BytesIO(upload.data), mode="r") as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert "Alice" in dict(container.metadata)["comment"]
        done = await fake.wait_for_request(
            "PATCH",
            rf"/webhooks/{fake.application_id}/{interaction.token}/messages/@original",
            predicate=lambda request: "posted" in (request.json or {}).get("content", ""),
            timeout=30,
        )
        assert str(post.response["id"]) in done.json["content"]
        with sqlite3.connect(workdir / "bot.db") as database:
            [(job_id, state)] = database.execute("SELECT id, state FROM jobs").fetchall()
        assert state == "delivered"
        assert job_id in worker.rendered_jobs()
        assert (workdir / "data" / "media" / f"{job_id}.mp4").stat().st_size == len(upload.data)
        assert fake.schema_violations() == []
    finally:
        await process.stop()
        await fake.stop()
    assert re.search(r"model\.distributed\.backend.*GPU worker \S+ serves tiny", process.output)


async def test_a_bot_whose_redis_is_down_starts_and_says_so_once_without_the_password(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    workdir = tmp_path / "bot"
    nowhere = "redis://:hunter2-not-a-real-password@127.0.0.1:1/0"
    process = BotProcess(bot_environment(fake, workdir, QUEUE_URL=nowhere), workdir)
    await process.start()
    try:
        await process.wait_for_log("logged in as")
        await process.wait_for_log("cannot reach Redis at QUEUE_URL")
    finally:
        await process.stop()
        await fake.stop()
    assert "hunter2" not in process.output
    assert process.output.count("cannot reach Redis") + process.output.count("lost Redis") == 1
