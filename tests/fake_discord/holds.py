"""Held answers: a request is handled (the fake's state shows its effect) but its answer waits for the test.

As when Discord acted on a request and the connection then stalled before its reply reached the bot: a test
can act (stop or kill the bot, say) while the bot is sure to be waiting on that request. The request is
recorded, as every request is, once answered, that is once released.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from tests.fake_discord.models import RecordedRequest


class HeldAnswers:
    """Holds the answers to the next `times` requests with `method` whose path `path_pattern` is found in
    (and that `predicate`, given the request as handled, accepts), until `release()`."""

    def __init__(
        self, method: str, path_pattern: str, *, times: int, predicate: Callable[[RecordedRequest], bool] | None
    ) -> None:
        self.method = method.upper()
        self.path_pattern = path_pattern
        self.times = times
        self.predicate = predicate
        self.held: list[RecordedRequest] = []  # in arrival order: handled, their answers not yet sent
        self._arrived = asyncio.Condition()
        self._released = asyncio.Event()

    def matches(self, request: RecordedRequest) -> bool:
        return (
            not self._released.is_set()
            and len(self.held) < self.times
            and request.method == self.method
            and re.search(self.path_pattern, request.path) is not None
            and (self.predicate is None or self.predicate(request))
        )

    async def hold(self, request: RecordedRequest) -> None:
        """Called by the middleware with a handled request: returns (its answer goes out) once released."""
        async with self._arrived:
            self.held.append(request)
            self._arrived.notify_all()
        await self._released.wait()

    async def wait_held(self, timeout: float = 15.0) -> RecordedRequest:
        """The first request held, once one is; its status and response are what the bot will get on release."""
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: bool(self.held)), timeout)
            except TimeoutError:
                raise AssertionError(f"no {self.method} {self.path_pattern} to hold within {timeout}s") from None
        return self.held[0]

    def release(self) -> None:
        """Send the held answers (to whoever still listens) and hold no more."""
        self._released.set()


async def hold_if_asked(holds: list[HeldAnswers], request: RecordedRequest) -> None:
    """The middleware's hook: waits while the first hold that wants `request` holds it."""
    for held in holds:
        if held.matches(request):
            await held.hold(request)
            return
