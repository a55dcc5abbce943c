"""Who a message may ping. Nobody, unless we name them: a prompt with @everyone pings no one."""

from __future__ import annotations

import discord

NOBODY = discord.AllowedMentions.none()


def only(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False)
