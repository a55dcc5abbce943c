"""What every moderator command shares: the ephemeral reply, the change made or refused, the change in words.

Who may moderate is checked before a handler runs (bot.checks); what breaks is answered by bot.errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.formatting import safe_user_text
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import refusal_text
from common.states import AuditAction
from jobs.errors import RequestRefused
from jobs.moderation import AuditView, Moderator

if TYPE_CHECKING:
    from bot.client import VideoBot

ROLE_TARGETS = (AuditAction.SET_ROLE, AuditAction.MODERATOR_ROLE, AuditAction.QUEUE_PRIORITY)
VALUE_CHARS = 210  # a value as shown, escaped: a ban with its longest reason fits, unescaped


async def reply(
    interaction: discord.Interaction[VideoBot], content: str, *, view: discord.ui.View = discord.utils.MISSING
) -> None:
    """Moderator replies are seen by the moderator alone, and ping no one."""
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NOBODY, view=view)


async def moderate(
    interaction: discord.Interaction[VideoBot], action: Callable[[Moderator], Awaitable[AuditView]]
) -> None:
    """Make the change as the invoking moderator (already checked), and say what changed or why not."""
    locale = str(interaction.locale)
    assert interaction.guild_id is not None  # the moderator check passed
    try:
        change = await action(Moderator(interaction.guild_id, interaction.user.id))
    except RequestRefused as refusal:
        await reply(interaction, refusal_text(refusal, locale))
        return
    await reply(interaction, text("mod.done", locale, change=describe(change, locale)))


def describe(change: AuditView, locale: str) -> str:
    """One audit row in words; members and roles as mentions, which ping no one here."""
    role_values = change.action is AuditAction.MODERATOR_ROLE
    return text(
        f"audit.{change.action.value}",
        locale,
        target=_mention(change.target_id, role=change.action in ROLE_TARGETS),
        before=_value(change.before, locale, role=role_values),
        after=_value(change.after, locale, role=role_values),
    )


def _mention(target_id: int | None, *, role: bool) -> str:
    if target_id is None:
        return ""
    return f"<@&{target_id}>" if role else f"<@{target_id}>"


def _value(value: str | None, locale: str, *, role: bool) -> str:
    """A stored value as shown: a role as its mention; anything else (a ban reason) escaped, then cut."""
    if value is None:
        return text("value.none", locale)
    return f"<@&{value}>" if role else safe_user_text(value, VALUE_CHARS)
