"""pytest fixtures and helpers that run the real discord.py client against FakeDiscord.

from tests.fake_discord.fixtures import *   # fixtures, helpers and the default guild's ids
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fake_discord.models import MODERATOR_PERMISSIONS, FakeMember, FakeRole
from tests.fake_discord.server import FakeDiscord

__all__ = [
    "CHANNEL_ID",
    "GUILD_ID",
    "MEMBER_ID",
    "MODERATOR_ID",
    "MODERATOR_ROLE_ID",
    "OTHER_CHANNEL_ID",
    "OTHER_MEMBER_ID",
    "OWNER_ID",
    "add_default_guild",
    "connected_client",
    "discord_py_pointed_at",
    "fake_discord",
]

# The default guild: two text channels, an owner, two plain members and a moderator.
GUILD_ID = 1_184_011_822_290_812_928
CHANNEL_ID = 1_184_011_822_290_812_931
OTHER_CHANNEL_ID = 1_184_011_822_290_812_932
MODERATOR_ROLE_ID = 1_184_012_109_630_054_400
OWNER_ID = 268_473_310_986_240_001
MEMBER_ID = 412_350_947_398_254_592
OTHER_MEMBER_ID = 539_876_412_113_461_248
MODERATOR_ID = 701_224_690_812_584_000

ClientT = TypeVar("ClientT", bound=discord.Client)


def add_default_guild(fake: FakeDiscord) -> None:
    fake.add_guild(
        GUILD_ID,
        name="Promptreel Test Server",
        owner_id=OWNER_ID,
        channels=[CHANNEL_ID, OTHER_CHANNEL_ID],
        roles=[FakeRole(id=MODERATOR_ROLE_ID, name="Moderator", permissions=MODERATOR_PERMISSIONS, position=1)],
        members=[
            FakeMember(user_id=OWNER_ID, name="Server Owner"),
            FakeMember(user_id=MEMBER_ID, name="Alice"),
            FakeMember(user_id=OTHER_MEMBER_ID, name="Bob"),
            FakeMember(user_id=MODERATOR_ID, name="Mod Marta", roles=[MODERATOR_ROLE_ID]),
        ],
    )


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord holding the default guild (GUILD_ID and friends)."""
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@contextlib.contextmanager
def discord_py_pointed_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Send discord.py's REST calls (webhooks and interaction callbacks included) and its gateway
    connection to `fake` inside the block; restore Discord's addresses afterwards."""
    saved_base, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved_base, saved_gateway


@contextlib.asynccontextmanager
async def connected_client(fake: FakeDiscord, client: ClientT, *, timeout: float = 15.0) -> AsyncIterator[ClientT]:
    """Run `client` (a Client or commands.Bot) against `fake` until on_ready, then yield it; close it
    on exit. Build the client with a small `guild_ready_timeout`: on_ready waits that long."""
    with discord_py_pointed_at(fake):
        async with client:  # sets the client up, and closes it (and its HTTP session) on exit
            running = asyncio.create_task(client.start(fake.token))
            ready = asyncio.create_task(client.wait_until_ready())
            try:
                await asyncio.wait({running, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if running.done():
                    running.result()  # start() failed: raise why
                if not ready.done():
                    raise AssertionError(f"discord.py was not ready within {timeout}s")
                yield client
            finally:
                ready.cancel()
                await client.close()
                await asyncio.gather(ready, return_exceptions=True)
                await running  # surfaces a client that crashed while the block ran
