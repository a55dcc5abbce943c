"""What every moderator command shares: the ephemeral reply, the change made or refused, the change in words.

Who may moderate is checked before a handler runs (bot.checks); what breaks is answered by bot.errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import discord

from bot.formatting import safe_user_text
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import refusal_text
from common.states import AuditAction
from jobs.errors import RequestRefused
from jobs.gallery import PRIVATE, PUBLIC
from jobs.moderation import AuditView, Moderator
from jobs.server_rules import OFF, ON

if TYPE_CHECKING:
    from bot.client import VideoBot

ROLE_TARGETS = (AuditAction.SET_ROLE, AuditAction.MODERATOR_ROLE, AuditAction.QUEUE_PRIORITY)
JOB_TARGETS = (AuditAction.GALLERY_HIDE, AuditAction.GALLERY_UNHIDE)
ROLE_VALUES = (AuditAction.MODERATOR_ROLE,)
CHANNEL_VALUES = (AuditAction.GALLERY_CHANNEL,)
VISIBILITY_VALUES = (AuditAction.GALLERY_PUBLIC,)  # jobs.gallery's PUBLIC or PRIVATE
CHANNEL_TARGETS = (AuditAction.VIDEO_CHANNEL_ADD, AuditAction.VIDEO_CHANNEL_REMOVE)
SWITCH_VALUES = (AuditAction.BLOCKLIST_DEFAULT, AuditAction.SENSITIVE_PRESETS)  # jobs.server_rules' ON or OFF
VALUE_CHARS = 210  # a value as shown, escaped: a ban with its longest reason fits, unescaped


async def reply(
    interaction: discord.Interaction[VideoBot], content: str, *, view: discord.ui.View = discord.utils.MISSING
) -> None:
    """Moderator replies are seen by the moderator alone, and ping no one."""
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NOBODY, view=view)


async def moderate(
    interaction: discord.Interaction[VideoBot], *actions: Callable[[Moderator], Awaitable[AuditView]]
) -> None:
    """Make the changes as the invoking moderator (already checked), and say what changed or why not."""
    await reply(interaction, await moderated(interaction, *actions))


async def moderated(
    interaction: discord.Interaction[VideoBot],
    *actions: Callable[[Moderator], Awaitable[AuditView | Sequence[AuditView]]],
) -> str:
    """Make the changes in order as the invoking moderator (already checked): what changed, in words, and why not
    for the first one refused (the ones after it are not tried; the ones before it stand, each audited). An action
    may make several changes at once (one audit row each)."""
    locale = str(interaction.locale)
    assert interaction.guild_id is not None  # the moderator check passed
    moderator = Moderator(interaction.guild_id, interaction.user.id)
    changes: list[str] = []
    lines: list[str] = []
    for action in actions:
        try:
            done = await action(moderator)
            changes += [describe(change, locale) for change in ((done,) if isinstance(done, AuditView) else done)]
        except RequestRefused as refusal:
            lines.append(refusal_text(refusal, locale))
            break
    if changes:
        lines.insert(0, text("mod.done", locale, change="; ".join(changes)))
    return "\n".join(lines)


def describe(change: AuditView, locale: str) -> str:
    """One audit row in words; members, roles and channels as mentions, which ping no one here."""
    return text(
        f"audit.{change.action.value}",
        locale,
        target=_target(change),
        before=_value(change.before, locale, change.action),
        after=_value(change.after, locale, change.action),
    )


def _target(change: AuditView) -> str:
    if change.target_id is None:
        return ""
    if change.action in JOB_TARGETS:
        return str(change.target_id)  # the catalogue shows it as a job number
    if change.action in CHANNEL_TARGETS:
        return f"<#{change.target_id}>"
    return f"<@&{change.target_id}>" if change.action in ROLE_TARGETS else f"<@{change.target_id}>"


def _value(value: str | None, locale: str, action: AuditAction) -> str:
    """A stored value as shown: a role or a channel as its mention, a gallery's visibility or a switch in the
    catalogue's words, anything else (a ban reason, a blocked term) escaped, then cut."""
    if value is None:
        return text("value.none", locale)
    if action in ROLE_VALUES:
        return f"<@&{value}>"
    if action in CHANNEL_VALUES:
        return f"<#{value}>"
    if action in VISIBILITY_VALUES and value in (PUBLIC, PRIVATE):
        return text(f"value.{value}", locale)
    if action in SWITCH_VALUES and value in (ON, OFF):
        return text(f"value.{value}", locale)
    return safe_user_text(value, VALUE_CHARS)
