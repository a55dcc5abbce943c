"""Reading the GPU workers' announcements: the bot's backend does it every half period, `python -m bot --check`
once. Light on purpose: Redis and the wire format, no arq worker, no torch."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from model.distributed.connection import CONNECT_TIMEOUT_SECONDS
from model.distributed.wire import WORKER_PATTERN, WorkerInfo, loads

log = logging.getLogger(__name__)


async def announced_workers(redis: Redis) -> dict[str, WorkerInfo]:
    """The workers announced now, by id; a malformed announcement is logged and left out."""
    keys = [key async for key in redis.scan_iter(match=WORKER_PATTERN, count=100)]
    workers: dict[str, WorkerInfo] = {}
    for raw in await redis.mget(keys) if keys else []:
        if raw is None:  # expired between the scan and the read
            continue
        try:
            info = WorkerInfo.from_data(loads(raw))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("ignoring a malformed worker announcement (%s)", error)
            continue
        workers[info.worker_id] = info
    return workers


async def live_workers(url: str) -> list[WorkerInfo]:
    """The workers announced now at QUEUE_URL; raises redis's errors (or OSError) when Redis does not answer."""
    redis = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await redis.ping()
        workers = await announced_workers(redis)
        return [workers[worker_id] for worker_id in sorted(workers)]
    finally:
        await redis.aclose()
