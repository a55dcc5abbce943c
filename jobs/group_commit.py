"""Group commit: concurrent calls wait while one batch runs, then the next batch takes them all.

One transaction per batch rather than per call: on SQLite, where one writer runs at a time
anyway, this is what lets admission keep up with a burst of submissions. A batch that fails
as a whole is run again one item at a time, so only the item that fails alone fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Runs one batch: an outcome per item, in order; an exception is what that item's caller raises.
BatchRunner = Callable[[Sequence[T]], Awaitable[Sequence[R | Exception]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, run_batch: BatchRunner[T, R], max_batch: int = 256) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            # A caller that gave up (cancelled) before its batch started is left out of it.
            taken = [(item, future) for item, future in self._waiting[: self._max_batch] if not future.done()]
            del self._waiting[: self._max_batch]
            if not taken:
                continue
            try:
                outcomes = list(await self._run_batch([item for item, _ in taken]))
            except Exception as error:
                if len(taken) == 1:
                    outcomes = [error]
                else:
                    # One bad item (or a passing error) must not fail the others: each runs again alone,
                    # in its own transaction, and only what fails alone fails, with its own exception.
                    outcomes = [error if future.done() else await self._run_alone(item) for item, future in taken]
            for (_, future), outcome in zip(taken, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _run_alone(self, item: T) -> R | Exception:
        try:
            [outcome] = await self._run_batch([item])
        except Exception as error:
            return error
        return outcome
