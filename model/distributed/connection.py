"""Connecting to the Redis of QUEUE_URL, the same way on the bot's side and the workers'.

A command that meets a dropped connection is tried again a few times with a growing pause, so a Redis restart of
a second or two passes unnoticed; beyond that the caller sees the error and waits it out (RETRY_DELAYS_SECONDS).
"""

from __future__ import annotations

from urllib.parse import unquote

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, RedisError, TimeoutError

from model.distributed.wire import dumps, loads

STORAGE_ERRORS = (RedisError, OSError)
"""What Redis being away raises."""
RETRY_DELAYS_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Pauses between tries once a connection's own retries gave up; the last one repeats."""
COMMAND_RETRIES = 4
CONNECT_TIMEOUT_SECONDS = 2
SOCKET_TIMEOUT_SECONDS = 10
"""A Redis that stops answering without closing the connection (a host gone, a dropped network) is noticed after
this long, instead of hanging the caller; longer than the bot's blocking read of the events stream."""
HEALTH_CHECK_SECONDS = 15


async def connect(url: str) -> ArqRedis:
    """A connection pool to QUEUE_URL's Redis that speaks JSON to arq (wire.dumps and loads), never pickle; raises
    redis's errors or OSError when Redis does not answer."""
    redis = await create_pool(redis_settings(url), job_serializer=dumps, job_deserializer=loads)
    # arq's settings know no socket timeout or keepalive: set them for every connection the pool opens from now on.
    redis.connection_pool.connection_kwargs.update(
        socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_keepalive=True, health_check_interval=HEALTH_CHECK_SECONDS
    )
    await redis.connection_pool.disconnect()
    return redis


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    # arq passes the URL's user and password on as they are written, percent-encoded: Redis wants them decoded.
    settings.username = None if settings.username is None else unquote(settings.username)
    settings.password = None if settings.password is None else unquote(settings.password)
    settings.conn_timeout = CONNECT_TIMEOUT_SECONDS
    settings.conn_retries = 0  # the callers wait and try again themselves, and say so once
    settings.retry = Retry(ExponentialBackoff(cap=2.0, base=0.1), COMMAND_RETRIES)
    settings.retry_on_error = [ConnectionError, TimeoutError]
    return settings
