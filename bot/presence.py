"""The bot's presence, what every member sees under its name: "Loading the video model…" while the render backend
starts (minutes on a first start), then how many jobs wait or render on this bot, every server's.

It is looked at every `every` seconds and whenever poke() is called (the model became ready), and sent only when its
words change, never twice within `every` seconds: Discord rate-limits presence updates. A new gateway session (an
IDENTIFY, not a RESUME) starts with no presence, so the next look sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.messages import DEFAULT_LANGUAGE, text

log = logging.getLogger(__name__)

PRESENCE_EVERY = 15.0
"""Seconds between two looks at the queue, and the least between two presence updates."""


class PresenceKeeper:
    def __init__(
        self,
        client: discord.Client,
        *,
        model_loading: Callable[[], bool],
        queue_length: Callable[[], Awaitable[int]],
        every: float = PRESENCE_EVERY,
    ) -> None:
        self.client = client
        self.model_loading = model_loading
        self.queue_length = queue_length
        self.every = every
        self._shown: tuple[str | None, str] | None = None  # the gateway session it was sent in, and its words
        self._poked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep())

    def poke(self) -> None:
        """Look again now (or as soon as the last update is `every` seconds old)."""
        self._poked.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def words(self) -> str:
        """Everyone sees the same presence: it is in the bot's default language."""
        if self.model_loading():
            return text("presence.loading", DEFAULT_LANGUAGE)
        return text("presence.queue", DEFAULT_LANGUAGE, count=await self.queue_length())

    async def _keep(self) -> None:
        await self.client.wait_until_ready()
        while True:
            if await self._update():
                await asyncio.sleep(self.every)  # the least between two updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), self.every)
            self._poked.clear()

    async def _update(self) -> bool:
        """Send the presence if its words changed; True if it was sent."""
        try:
            shown = (self.client.ws.session_id, await self.words())
            if shown == self._shown:
                return False
            await self.client.change_presence(activity=discord.CustomActivity(name=shown[1]))
        except Exception:  # a locked database or a dropped connection: the next look tries again
            log.warning("could not update the bot's presence", exc_info=True)
            return False
        self._shown = shown
        return True
