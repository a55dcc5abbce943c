"""A clip request as the member behind an interaction makes it: who they are (id, name, roles, language), where
they asked (the channel, a thread's parent, whether Discord marks it age-restricted) and their upload limit.

Every way of asking for a clip builds its VideoRequest here (/video and the Reroll button), so a server's rules
(jobs.server_rules) and the quota see the same facts whichever way a clip was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord

from bot.members import role_ids
from jobs.requests import VideoRequest
from model.contract import DEFAULT_UPLOAD_LIMIT_BYTES

MAX_REQUEST_BYTES = 25 * 1024 * 1024  # a whole request to Discord, whatever the boost level


def video_request(interaction: discord.Interaction[Any], options: Mapping[str, object]) -> VideoRequest:
    """The invoking member's request for a clip with these options, in the interaction's server and channel."""
    assert interaction.guild_id is not None and interaction.channel_id is not None  # callers refuse DMs first
    parent_channel_id, age_restricted = channel_facts(interaction.channel)
    return VideoRequest(
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        user_id=interaction.user.id,
        user_name=interaction.user.display_name,
        options=options,
        max_bytes=min(interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT_BYTES, MAX_REQUEST_BYTES),
        role_ids=role_ids(interaction.user),
        locale=str(interaction.locale),
        parent_channel_id=parent_channel_id,
        age_restricted=age_restricted,
    )


def channel_facts(channel: object) -> tuple[int | None, bool]:
    """A thread's parent channel (None elsewhere), and whether Discord marks the channel, or a thread's parent,
    age-restricted."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id, channel.is_nsfw()
    if isinstance(channel, discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.ForumChannel):
        return None, channel.is_nsfw()
    return None, False
