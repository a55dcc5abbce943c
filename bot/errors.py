"""Every failure of an app command or an audit-page button is answered here, and only here.

A refusal (a failed check) is put into words; anything else is logged with its traceback and answered with the
command's catalogue message. Either way the member gets an ephemeral answer that pings no one, so no interaction
is left unanswered ("The application did not respond"), and answering never raises.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.checks import NotModerator, NotServerManager, OtherServer
from bot.mentions import NOBODY
from bot.messages import text

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

# A command's (or its group's) `extras` key naming the catalogue message for an unexpected error.
ERROR_MESSAGE = "error_message"
DEFAULT_ERROR_MESSAGE = "error.unexpected"

AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu


class AnsweringTree(app_commands.CommandTree["VideoBot"]):
    """The bot's command tree: every error any command raises goes to answer_error."""

    async def on_error(
        self, interaction: discord.Interaction[VideoBot], error: app_commands.AppCommandError, /
    ) -> None:
        await answer_error(interaction, error, unexpected=error_message_of(interaction.command))


def error_message_of(command: AnyCommand | None) -> str:
    """The catalogue key a command declares for unexpected errors: its own, else its group's, else the default."""
    while command is not None:
        key = command.extras.get(ERROR_MESSAGE)
        if key is not None:
            return str(key)
        command = getattr(command, "parent", None)
    return DEFAULT_ERROR_MESSAGE


def refusal_words(error: Exception, locale: str) -> str | None:
    """A failed check in the member's words; None for anything that is not a refusal."""
    match error:
        case NotModerator():
            return text("mod.denied", locale)
        case NotServerManager():
            return text("mod.denied_manage_server", locale)
        case OtherServer():
            return text("button.other_server", locale)
    return None


async def answer_error(interaction: discord.Interaction[VideoBot], error: Exception, *, unexpected: str) -> None:
    """Answer the member ephemerally: the refusal, or the `unexpected` catalogue message after logging what broke."""
    locale = str(interaction.locale)
    words = refusal_words(error, locale)
    if words is None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("%s failed", _what(interaction), exc_info=cause)
        words = text(unexpected, locale)
    try:
        # A command that already answered (or deferred) can only be followed up.
        if interaction.response.is_done():
            await interaction.followup.send(words, ephemeral=True, allowed_mentions=NOBODY)
        else:
            await interaction.response.send_message(words, ephemeral=True, allowed_mentions=NOBODY)
    except Exception:
        log.exception("could not tell the member that %s failed", _what(interaction))


def _what(interaction: discord.Interaction[VideoBot]) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data = interaction.data
    custom_id = data.get("custom_id") if data is not None else None
    return f"component {custom_id}" if custom_id else "an interaction"
