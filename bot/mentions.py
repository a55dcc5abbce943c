"""Who a message may ping. Nobody, unless we name them: a prompt with @everyone pings no one."""

from __future__ import annotations

import discord

NOBODY = discord.AllowedMentions.none()


def only(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False)


def as_now(message: discord.Message | None) -> discord.AllowedMentions:
    """For an edit of `message`: the members it mentions now and no one else, so the edit neither pings anyone new
    nor takes the requester's mention off their post."""
    users = [] if message is None else [discord.Object(user.id) for user in message.mentions]
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)
