"""What `python -m bot --check` asks the Redis of QUEUE_URL: does it answer, and which GPU workers announce
themselves there now. Light on purpose: Redis and the wire format, no arq worker, no torch."""

from __future__ import annotations

from redis.asyncio import Redis

from model.distributed.connection import CONNECT_TIMEOUT_SECONDS
from model.distributed.wire import WORKER_PATTERN, WorkerInfo, loads


async def live_workers(url: str) -> list[WorkerInfo]:
    """The workers announced now; raises redis's errors (or OSError) when Redis does not answer."""
    redis = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await redis.ping()
        keys = [key async for key in redis.scan_iter(match=WORKER_PATTERN, count=100)]
        announcements = await redis.mget(keys) if keys else []
        return sorted(
            (WorkerInfo.from_data(loads(raw)) for raw in announcements if raw is not None),
            key=lambda info: info.worker_id,
        )
    finally:
        await redis.aclose()
