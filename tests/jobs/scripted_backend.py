"""A RenderBackend whose events the test writes, for the job lifecycle's own tests.

The real worker process is exercised in tests/model and end to end in tests/bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from model.contract import RenderEvent, RenderSpec


class ScriptedBackend:
    def __init__(self, serves: frozenset[str] = frozenset({"tiny"}), capacity: int = 2) -> None:
        self.serves = serves
        self.capacity = capacity
        self.elastic = False
        self.renders_at_once = 1
        self.resumable: frozenset[int] = frozenset()
        """What resume() says it still has."""
        self.submitted: list[RenderSpec] = []
        self.cancelled: list[int] = []
        self._events: asyncio.Queue[RenderEvent] = asyncio.Queue()
        self._submitted_signal = asyncio.Event()

    async def start(self) -> None:
        pass

    async def resume(self, specs: Sequence[RenderSpec]) -> frozenset[int]:
        return self.resumable & {spec.job_id for spec in specs}

    async def submit(self, spec: RenderSpec) -> None:
        self.submitted.append(spec)
        self._submitted_signal.set()

    async def cancel(self, job_id: int) -> None:
        self.cancelled.append(job_id)

    async def events(self) -> AsyncIterator[RenderEvent]:
        while True:
            yield await self._events.get()

    async def close(self) -> None:
        pass

    @property
    def drained(self) -> bool:
        return self._events.empty()

    def emit(self, event: RenderEvent) -> None:
        self._events.put_nowait(event)

    async def wait_submitted(self, count: int, timeout: float = 5.0) -> list[RenderSpec]:
        async with asyncio.timeout(timeout):
            while len(self.submitted) < count:
                self._submitted_signal.clear()
                await self._submitted_signal.wait()
        return self.submitted


class SlowStartingBackend(ScriptedBackend):
    """A ScriptedBackend whose start lasts until the test calls loaded() (a local model loading for minutes), or
    raises `failure` then; close() ends a start under way by failing it, as the local worker backend's does."""

    def __init__(self, serves: frozenset[str] = frozenset({"tiny"}), capacity: int = 2) -> None:
        super().__init__(serves, capacity)
        self.failure: Exception | None = None
        self.closed = False
        self._loaded = asyncio.Event()

    def loaded(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self._loaded.set()

    async def start(self) -> None:
        await self._loaded.wait()
        if self.failure is not None:
            raise self.failure

    async def close(self) -> None:
        self.closed = True
        self.loaded(self.failure or RuntimeError("the backend was closed while it started"))


class SlowResumingBackend(ScriptedBackend):
    """A ScriptedBackend whose resume() (the recovery's first question to it) lasts until the test calls resumed():
    a recovery under way for as long as the test needs. `resuming` is set once it is asked; `resume_cancelled` says
    whether the recovery was cut short meanwhile."""

    def __init__(self, serves: frozenset[str] = frozenset({"tiny"}), capacity: int = 2) -> None:
        super().__init__(serves, capacity)
        self.resuming = asyncio.Event()
        self.resume_cancelled = False
        self._resumed = asyncio.Event()

    def resumed(self) -> None:
        self._resumed.set()

    async def resume(self, specs: Sequence[RenderSpec]) -> frozenset[int]:
        self.resuming.set()
        try:
            await self._resumed.wait()
        except asyncio.CancelledError:
            self.resume_cancelled = True
            raise
        return await super().resume(specs)
