"""Throughput of the distributed mode: tiny jobs through one, then two, arq GPU workers (CPU here).

    .venv/bin/python benchmarks/throughput.py [--jobs 40]

A real redis-server (persistence off) on a free port, real `python -m model worker` processes, the bot's real
runner and SQLite database; the post is the job domain's (no Discord). Prints, last, as name=value lines:
- jobs_per_minute_1 and jobs_per_minute_2, and their ratio (target ≥ 1.8 with a core per worker: `cores`);
- outside_model_median_ms: for jobs sent one at a time to one worker, the time from submission to the post
  minus the model call the worker timed (the queue, arq, the transfer through Redis, the encode, the post);
  target < 150 ms.
Each worker renders with one torch thread, so a worker is one core's worth of work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.database import Database
from jobs.clock import SystemClock
from jobs.views import JobView
from tests.distributed.conftest import Bot, RedisServer, Workers, free_port, until
from tests.jobs.conftest import RecordingObserver, video_request


async def run(jobs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        redis = RedisServer(free_port(), root)
        redis.start()
        pool = Workers(redis, root)
        try:
            figures = {"cores": float(len(os.sched_getaffinity(0)))}
            figures["outside_model_median_ms"] = await outside_model(root / "sequential", redis, pool)
            for count in (1, 2):
                figures[f"jobs_per_minute_{count}"] = await per_minute(root / f"run{count}", redis, pool, count, jobs)
            figures["ratio"] = figures["jobs_per_minute_2"] / figures["jobs_per_minute_1"]
            return figures
        finally:
            for worker in pool.started:
                worker.stop()
            redis.kill()


async def new_bot(folder: Path, redis: RedisServer) -> Bot:
    folder.mkdir()
    database = Database(f"sqlite+aiosqlite:///{folder / 'bot.db'}")
    await database.migrate()
    bot = Bot(database, folder / "data", redis.url, RecordingObserver(), SystemClock())
    bot.wire(served={"tiny"})
    return bot


async def submit(bot: Bot, count: int) -> None:
    for index in range(count):
        await bot.admission.submit(bot.admission.validate(video_request(user_id=1 + index % 5)))


async def per_minute(folder: Path, redis: RedisServer, pool: Workers, workers: int, jobs: int) -> float:
    for worker in pool.started:
        worker.stop()
    redis.client().flushall()
    pool.start(workers)
    bot = await new_bot(folder, redis)
    await submit(bot, jobs)  # queued before the runner starts: the workers never wait for the bot
    started = time.monotonic()
    await bot.runner.start(bot.observer)
    await until(lambda: len(bot.observer.delivered) == jobs, 600, "every job")
    elapsed = time.monotonic() - started
    await bot.runner.close()
    await bot.database.dispose()
    return jobs / elapsed * 60


async def outside_model(folder: Path, redis: RedisServer, pool: Workers, jobs: int = 10) -> float:
    pool.start(1)
    bot = await new_bot(folder, redis)
    await bot.runner.start(bot.observer)
    await until(lambda: bot.backend.renders_at_once == 1, 30, "the worker")
    outside = []
    for count in range(1, jobs + 1):
        submitted = time.monotonic()
        await submit(bot, 1)
        await until(lambda count=count: len(bot.observer.delivered) == count, 60, "the post")
        view: JobView = bot.observer.delivered[-1]
        assert view.render_seconds is not None
        outside.append(time.monotonic() - submitted - view.render_seconds)
    await bot.runner.close()
    await bot.database.dispose()
    return statistics.median(outside) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    figures = asyncio.run(run(parser.parse_args().jobs))
    for name, value in figures.items():
        print(f"{name}={value:.3g}" if name != "cores" else f"{name}={value:.0f}")


if __name__ == "__main__":
    main()
