"""The stream of RenderEvents a backend hands the runner: an asyncio queue read as an async iterator."""

from __future__ import annotations

import asyncio

from model.contract import RenderEvent


class EventStream:
    """Async iterator over a backend's events; None in the queue ends it (and every other stream on it)."""

    def __init__(self, events: asyncio.Queue[RenderEvent | None]) -> None:
        self._events = events

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> RenderEvent:
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # so every other stream ends too
            raise StopAsyncIteration
        return event
