"""A real redis-server on a free port (persistence off) and real GPU worker processes (`python -m model worker`,
tiny preset, CPU), for the distributed mode's tests; the job domain around them is the bot's own, on SQLite."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest
import redis

from db.database import Database
from jobs.admission import JobAdmission
from jobs.clock import Clock, SystemClock
from jobs.media import MediaFiles
from jobs.quota import QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.runner import JobRunner
from model.catalogue import load_catalogue
from model.distributed.backend import ArqBackend
from model.distributed.wire import loads
from tests.jobs.conftest import RecordingObserver

ANNOUNCE_SECONDS = 1
"""A dead worker is noticed after three of these."""
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """Gone at once, and with it everything it held (persistence is off)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def announcements(self) -> dict[int, frozenset[int]]:
        """The live workers' announcements: each one's pid and the jobs it says it renders."""
        client = self.client()
        try:
            found = {}
            for key in cast(list[bytes], client.keys("promptreel:worker:*")):
                raw = cast(bytes | None, client.get(key))
                if raw is not None:
                    arq_ids = cast(list[str], loads(raw)["jobs"])  # promptreel:job:<job id>:<attempt>
                    found[int(key.decode().rsplit("-", 1)[1])] = frozenset(
                        int(arq_id.split(":")[2]) for arq_id in arq_ids
                    )
            return found
        finally:
            client.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        missing = "needs redis-server (Debian's package; .ci/run installs it)"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@dataclass
class GpuWorker:
    """`python -m model worker` as an operator starts it, with its own DATA_DIR (no disk shared with the bot)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rendered_jobs(self) -> list[int]:
        return [int(line.rsplit("job ", 1)[1].split()[0]) for line in self.log.splitlines() if " rendered job " in line]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Workers:
    redis: RedisServer
    folder: Path
    started: list[GpuWorker] = field(default_factory=list)

    def start(self, count: int = 1, **env: str) -> list[GpuWorker]:
        workers = [self._spawn(f"worker{len(self.started) + index}", env) for index in range(count)]
        self.started.extend(workers)
        deadline = time.monotonic() + 90
        while not self.redis.announcements().keys() >= {worker.process.pid for worker in workers}:
            assert all(worker.process.poll() is None for worker in workers), [worker.log for worker in workers]
            assert time.monotonic() < deadline, "the workers did not announce themselves"
            time.sleep(0.1)
        return workers

    def _spawn(self, name: str, extra_env: dict[str, str]) -> GpuWorker:
        data_dir = self.folder / name
        data_dir.mkdir()
        env = {
            **os.environ,
            "QUEUE_URL": self.redis.url,
            "QUEUE_WORKER_ANNOUNCE_SECONDS": str(ANNOUNCE_SECONDS),
            "VIDEO_MODEL": "tiny",
            "VIDEO_DEVICE": "cpu",
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "INFO",
            "OMP_NUM_THREADS": "1",
            **extra_env,
        }
        log_path = self.folder / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "model", "worker"], cwd=data_dir, env=env, stdout=log, stderr=log
            )
        return GpuWorker(name, process, log_path)


@pytest.fixture
def workers(redis_server: RedisServer, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(redis_server, tmp_path)
    yield pool
    for worker in pool.started:
        worker.stop()


@dataclass
class Bot:
    """The bot's job domain wired as bot/app.py wires it in distributed mode."""

    database: Database
    data_dir: Path
    url: str
    observer: RecordingObserver
    clock: Clock
    backend: ArqBackend = field(init=False)
    runner: JobRunner = field(init=False)
    admission: JobAdmission = field(init=False)

    def wire(self, *, served: Collection[str] = (), presets_file: Path | None = None) -> None:
        """A new backend, runner and admission; `served` adds presets the admission takes before any worker is
        seen (to queue jobs before the runner starts), `presets_file` is the workers' VIDEO_PRESETS_FILE."""
        self.backend = ArqBackend(self.url, data_dir=self.data_dir, announce_seconds=ANNOUNCE_SECONDS)
        self.runner = JobRunner(
            database=self.database,
            backend=self.backend,
            clock=self.clock,
            media=MediaFiles(self.data_dir),
            delivery_retry_delays=(0.01,),
        )
        backend = self.backend
        self.admission = JobAdmission(
            database=self.database,
            quota=QuotaPolicy(
                database=self.database,
                defaults=QuotaDefaults(credits=1000, max_active_jobs=1000),
                clock=self.clock,
            ),
            clock=self.clock,
            presets=load_catalogue(presets_file),
            served=lambda: backend.serves | set(served),
            default_preset_id="tiny",
            on_queued=self.runner.wake,
        )


@pytest.fixture
async def bot(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Bot]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
    bot = Bot(database, tmp_path / "bot-data", redis_server.url, RecordingObserver(), SystemClock())
    yield bot
    if hasattr(bot, "runner"):
        await bot.runner.close()
    await database.dispose()


async def until(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
