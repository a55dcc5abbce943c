"""Asking for a clip for the member behind an interaction: what /video and the Reroll button both do, in one order.

1. may_post_here: only in a server, and only where the bot may post the clip (one it cannot post would cost a
   render and a refund).
2. queue_clip: JobAdmission.screen checks the options (the prompt's flags applied) and the server's rules; the
   first answer shows the clip's settings and its exact cost (bot.clip_settings) before anything is charged;
   JobAdmission.submit charges that cost and queues the job in one transaction; the publisher then edits the answer
   into the job's status.

The first answer is a new ephemeral message, or the edit of one deferred already (Reroll defers while it reads the
clip it makes again). A refusal at any step is said in the member's language in that answer and charges nothing; one
that comes after the settings were shown replaces them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord

from bot.clip_settings import settings_embed
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import refusal_text
from bot.video_requests import video_request
from jobs.errors import RequestRefused

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)


async def may_post_here(interaction: discord.Interaction[VideoBot]) -> bool:
    """Whether a clip may be asked for where the member asks; if not, they are told why."""
    locale = str(interaction.locale)
    if interaction.guild_id is None or interaction.channel_id is None:
        await refuse(interaction, text("guild_only", locale))
        return False
    missing = missing_post_permissions(interaction)
    if missing:
        await refuse(interaction, text("bot.missing_permissions", locale, permissions=", ".join(missing)))
        return False
    return True


def missing_post_permissions(interaction: discord.Interaction[VideoBot]) -> list[str]:
    """Names of the channel permissions the bot lacks to post a clip where it was asked for, as the member's
    Discord names them."""
    granted = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    needed = {
        "view_channel": granted.view_channel,
        "send_messages_in_threads" if in_thread else "send_messages": (
            granted.send_messages_in_threads if in_thread else granted.send_messages
        ),
        "attach_files": granted.attach_files,
        "embed_links": granted.embed_links,
    }
    return [text(f"permission.{name}", str(interaction.locale)) for name, has in needed.items() if not has]


async def queue_clip(interaction: discord.Interaction[VideoBot], options: Mapping[str, object]) -> None:
    """Screen, show, charge and queue the member's clip with these /video options (may_post_here passed)."""
    locale = str(interaction.locale)
    admission = interaction.client.admission
    request = video_request(interaction, options)  # where it was asked, too: a server's rules depend on it
    # Discord enforces /video's option limits in its clients, but anything can arrive: check everything here.
    try:
        valid = await admission.screen(request)
    except RequestRefused as refusal:
        await refuse(interaction, refusal_text(refusal, locale))
        return
    # What will be charged, before it is: the cost submit charges is this one. The status edits that follow keep the
    # settings embed.
    content, embed = text("video.first_answer", locale, cost=valid.cost), settings_embed(valid, locale)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, embed=embed, allowed_mentions=NOBODY)
    else:
        await interaction.response.send_message(content, embed=embed, ephemeral=True, allowed_mentions=NOBODY)
    try:
        ticket = await admission.submit(valid)
    except RequestRefused as refusal:
        await refuse(interaction, refusal_text(refusal, locale))
        return
    except Exception:
        log.exception("could not queue a clip for member %s", interaction.user.id)
        await refuse(interaction, text("error.unexpected", locale))
        return
    await interaction.client.publisher.acknowledge(interaction, ticket)


async def refuse(interaction: discord.Interaction[VideoBot], words: str) -> None:
    """Say why nothing was queued: as the first answer, or in its place (its settings embed goes with it)."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=words, embeds=[], allowed_mentions=NOBODY)
    else:
        await interaction.response.send_message(words, ephemeral=True, allowed_mentions=NOBODY)
