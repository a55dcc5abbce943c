"""Who may run a command, said once per command as a decorator.

A failed check raises a refusal (a CheckFailure of this module) that bot.errors puts into words. The checks run in
the handler's path on every invocation: Discord's default_member_permissions only hides a command, and a server
owner can show it to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.members import is_moderator

if TYPE_CHECKING:
    from bot.client import VideoBot

T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    """The member has neither Manage Server nor the server's moderator role."""


class NotServerManager(app_commands.CheckFailure):
    """The member lacks Manage Server, which choosing who moderates needs."""


class OtherServer(app_commands.CheckFailure):
    """A button clicked in another server than the one its custom_id names (a crafted interaction)."""


async def require_moderator(interaction: discord.Interaction[VideoBot]) -> None:
    """Raise NotModerator unless the invoking member moderates this server."""
    if not await is_moderator(interaction):
        raise NotModerator("the member does not moderate this server")


def moderator_only() -> Callable[[T], T]:
    """The command is for the server's moderators: Manage Server or the moderator role."""

    async def predicate(interaction: discord.Interaction[VideoBot]) -> bool:
        await require_moderator(interaction)
        return True

    return app_commands.check(predicate)


def server_managers_only() -> Callable[[T], T]:
    """The command needs Manage Server itself: a moderator role is not enough."""

    async def predicate(interaction: discord.Interaction[VideoBot]) -> bool:
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise NotServerManager("the member lacks Manage Server")
        return True

    return app_commands.check(predicate)
