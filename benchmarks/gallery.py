"""How fast does the web gallery answer a crowd, with 10,000 clips in its server's gallery?

Fills a fresh SQLite database (a WAL file, as the bot uses) with delivered clips: several creators, prompts of words
drawn from a word list, random star counts (the counts alone: no GalleryStar rows, which no page reads). Makes the
gallery public, starts `python -m gallery` in a process of its own (so the load generator does not share its event
loop or its core) and, with aiohttp, asks each of three addresses with `--concurrency` requests in flight: the grid
page (`/g/<slug>`), a search for one word from the list (`/g/<slug>/search?q=<word>`, a different word each time)
and the JSON API (`/g/<slug>/api/items`). These are answered from memory while the database is unchanged
(gallery.cache), as they are between a busy bot's writes. Last, `unreused_page`: the grid under a query string never
asked before, so every answer is read from the database and rendered again. Each address gets a warm-up, 200
requests one at a time (`*_alone_p50_ms`: what one answer costs the server), then `--requests` timed requests with
`--concurrency` in flight; every answer must be a 200. No media file is served: the pages only link them.

Target: p99 under 50 ms for each address at 100 in flight on the machine it runs on. Latency under a closed load
is in-flight requests over throughput (Little's law), so this also asks for about 2,000 answers a second from the
one process and core the server has.

    .venv/bin/python benchmarks/gallery.py [--items 10000] [--requests 2000] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from common.states import JobState
from db.database import Database
from db.models import Job
from jobs.clock import SystemClock
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.moderation import Moderator

ROOT = Path(__file__).resolve().parents[1]
GUILD_ID = 700_000_000_000_000_001
CHANNEL_ID = 700_000_000_000_000_002
MODERATOR = Moderator(GUILD_ID, 700_000_000_000_000_003)
CREATORS = [700_000_000_000_001_000 + n for n in range(40)]
WORDS = (
    "fox wolf owl heron whale otter lynx moth koi crane deer hare raven salmon tiger panda falcon beetle jellyfish "
    "snow rain fog storm dusk dawn night noon sunset sunrise aurora thunder mist frost ember glow shadow "
    "forest river ocean desert canyon glacier meadow harbour city alley rooftop market temple bridge lighthouse "
    "garden volcano island cave tundra swamp orchard vineyard station subway library cathedral castle "
    "running flying swimming dancing drifting glowing melting spinning falling floating burning blooming "
    "neon golden silver crimson azure emerald violet amber ivory cobalt pastel misty quiet ancient tiny giant "
    "watercolor cinematic anime claymation noir vaporwave baroque isometric pixel sketch oil photoreal "
    "slow motion timelapse closeup aerial panning tracking handheld macro wide "
    "paper boat lantern kite umbrella bicycle train balloon robot astronaut samurai dragon knight wizard "
    "café crème façade naïve piñata smörgåsbord über"
).split()
SEED = 20261202
ALONE_REQUESTS = 200


@dataclass(slots=True)
class Endpoint:
    name: str
    paths: list[str]
    """Asked in turn, one request each, the next phase going on where the last one stopped."""
    asked: int = 0


@dataclass(frozen=True, slots=True)
class Timing:
    latencies_ms: list[float]
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def prompt(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14)))


def job_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Delivered clips, oldest first, a minute apart; a third of them starred."""
    start = datetime.now(UTC) - timedelta(minutes=count)
    rows = []
    for job_id in range(1, count + 1):
        user_id = rng.choice(CREATORS)
        rows.append(
            {
                "id": job_id,
                "state": JobState.DELIVERED,
                "guild_id": GUILD_ID,
                "channel_id": CHANNEL_ID,
                "user_id": user_id,
                "user_name": f"creator{user_id % 1000}",
                "prompt": prompt(rng),
                "negative_prompt": "",
                "seed": rng.randrange(2**32),
                "preset_id": "wan-1.3b",
                "frames": 33,
                "width": 832,
                "height": 480,
                "fps": 16,
                "steps": 30,
                "guidance": 5.0,
                "max_bytes": 10_485_760,
                "cost": 8,
                "model_id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
                "licence": "Apache-2.0",
                "licence_url": "https://www.apache.org/licenses/LICENSE-2.0",
                "authors": "Wan Team, Alibaba Group",
                "created_at": start + timedelta(minutes=job_id),
                "finished_at": start + timedelta(minutes=job_id, seconds=50),
                "video_key": f"media/{job_id}.mp4",
                "video_bytes": 1_200_000,
                "video_width": 832,
                "video_height": 480,
                "video_frames": 33,
                "video_fps": 16,
                "poster_key": f"media/{job_id}.jpg",
                "message_id": 710_000_000_000_000_000 + job_id,
                "star_count": rng.choice((0, 0, 1, 1, 2, 3, 5, 8, 13, 40)) if rng.random() < 0.33 else 0,
            }
        )
    return rows


async def fill(database_url: str, data_dir: Path, items: int) -> str:
    """The public gallery's slug, once `items` delivered clips are in it."""
    database = Database(database_url)
    try:
        await database.migrate()
        rows = job_rows(items, random.Random(SEED))
        async with database.transaction() as session:
            for start in range(0, len(rows), 1000):
                await session.execute(insert(Job), rows[start : start + 1000])
        service = GalleryService(database=database, media=MediaFiles(data_dir), clock=SystemClock())
        await service.set_public(MODERATOR, True)
        return (await service.settings(GUILD_ID)).slug
    finally:
        await database.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the gallery exited with status {server.returncode}:\n{log.read_text()}")
            try:
                async with session.get(f"{base}/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gallery did not answer within {timeout:.0f} s:\n{log.read_text()}")
            await asyncio.sleep(0.1)


async def hammer(
    session: aiohttp.ClientSession, base: str, endpoint: Endpoint, requests: int, in_flight: int
) -> Timing:
    """`requests` GETs, `in_flight` at a time, each timed from its send to its last byte."""
    latencies_ms: list[float] = []
    turns = iter(range(endpoint.asked, endpoint.asked + requests))
    endpoint.asked += requests

    async def client() -> None:
        for turn in turns:
            path = endpoint.paths[turn % len(endpoint.paths)]
            sent = time.perf_counter()
            async with session.get(base + path) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
            latencies_ms.append(1000 * (time.perf_counter() - sent))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(in_flight)))
    return Timing(latencies_ms, time.perf_counter() - started)


async def measure(
    base: str, endpoints: list[Endpoint], requests: int, in_flight: int
) -> dict[str, tuple[Timing, Timing]]:
    """Each endpoint's timings alone (one request in flight: what one answer costs the server) and in a crowd."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        timings = {}
        for endpoint in endpoints:
            await hammer(session, base, endpoint, max(200, requests // 10), in_flight)  # warm-up
            alone = await hammer(session, base, endpoint, ALONE_REQUESTS, 1)
            crowd = await hammer(session, base, endpoint, requests, in_flight)
            timings[endpoint.name] = (alone, crowd)
            print(f"{endpoint.name}: {requests} requests in {crowd.seconds:.1f} s", flush=True)
        return timings


async def main(items: int, requests: int, in_flight: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        database_url = f"sqlite+aiosqlite:///{workdir / 'bot.db'}"
        data_dir = workdir / "data"
        started = time.perf_counter()
        slug = await fill(database_url, data_dir, items)
        print(f"{items} clips stored in {time.perf_counter() - started:.1f} s", flush=True)

        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "GALLERY_HOST": "127.0.0.1",
            "GALLERY_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        log = workdir / "gallery.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "gallery"], cwd=ROOT, env=environment, stdout=output, stderr=output
            )
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_serving(base, server, log)
            words = WORDS.copy()
            random.Random(SEED).shuffle(words)
            endpoints = [
                Endpoint("gallery_page", [f"/g/{slug}"]),
                Endpoint("search", [f"/g/{slug}/search?q={word}" for word in words]),
                Endpoint("api", [f"/g/{slug}/api/items"]),
                # A query string never asked before: never answered from memory (gallery.cache), so this is what a
                # page costs while the database keeps changing under it.
                Endpoint("unreused_page", [f"/g/{slug}?visit={visit}" for visit in range(2 * requests + 400)]),
            ]
            timings = await measure(base, endpoints, requests, in_flight)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if server.returncode != 0:
            raise RuntimeError(f"the gallery stopped with status {server.returncode}:\n{log.read_text()}")

    print(f"gallery_items={items}")
    print(f"concurrency={in_flight}")
    for name, (alone, crowd) in timings.items():
        print(f"{name}_alone_p50_ms={statistics.median(alone.latencies_ms):.1f}")
        print(f"{name}_p50_ms={statistics.median(crowd.latencies_ms):.1f}")
        print(f"{name}_p99_ms={percentile(crowd.latencies_ms, 0.99):.1f}")
        print(f"{name}_rps={crowd.rps:.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.items, arguments.requests, arguments.concurrency))
