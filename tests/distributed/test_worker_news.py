"""A distributed worker's news of a render (model.distributed.worker._News) while Redis is slow: one event of each
kind waits, the newest, so the backlog stays three events whatever the render sends; at the end, a waiting preview
is dropped (the outcome follows) and the rest is sent."""

from __future__ import annotations

import asyncio

from model.contract import Preview, Progress, Started
from model.distributed.worker import News, _News


class SlowRedis:
    """Takes each event at once, and answers only once `answering` is set."""

    def __init__(self) -> None:
        self.sent: list[News] = []
        self.answering = asyncio.Event()

    async def send(self, event: News) -> None:
        self.sent.append(event)
        await self.answering.wait()

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.sent) < count:
                await asyncio.sleep(0.01)


def progress(step: int) -> Progress:
    return Progress(1, step, 25, float(step))


def preview(step: int) -> Preview:
    return Preview(1, step, b"\xff\xd8 a jpeg of step %d" % step)


async def test_while_redis_is_slow_only_the_newest_progress_and_preview_wait() -> None:
    redis = SlowRedis()
    news = _News(redis.send)
    news.put(Started(1))
    await redis.until_sent(1)  # on its way, and Redis does not answer
    for step in range(1, 26):  # progress and previews alternate, as a render sends them
        news.put(progress(step))
        news.put(preview(step))
    redis.answering.set()
    await redis.until_sent(3)
    await asyncio.sleep(0.1)  # nothing more comes
    assert redis.sent == [Started(1), progress(25), preview(25)]
    await news.close()


async def test_the_end_sends_the_newest_progress_and_drops_a_waiting_preview() -> None:
    redis = SlowRedis()
    news = _News(redis.send)
    news.put(progress(1))
    await redis.until_sent(1)
    for step in (2, 3):
        news.put(progress(step))
        news.put(preview(step))
    closing = asyncio.ensure_future(news.close())
    await asyncio.sleep(0.05)
    news.put(preview(4))  # from the preview thread, just after the render ended
    redis.answering.set()
    await closing
    assert redis.sent == [progress(1), progress(3)]
