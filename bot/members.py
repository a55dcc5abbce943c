"""Who the invoking member is to the bot: their roles (for tiers) and whether they moderate it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.client import VideoBot


def role_ids(user: discord.User | discord.Member) -> frozenset[int]:
    """The member's roles, @everyone included, so a tier on @everyone applies to all."""
    return frozenset(role.id for role in user.roles) if isinstance(user, discord.Member) else frozenset()


async def is_moderator(interaction: discord.Interaction[VideoBot]) -> bool:
    """Manage Server, or the server's moderator role (/mod role).

    Asked on every invocation, by the moderator check (bot.checks) and the audit-page buttons: Discord hides
    the commands through default_member_permissions, but a server owner can show them to anyone.
    """
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    moderator_role = await interaction.client.moderation.moderator_role(interaction.guild_id)
    return moderator_role is not None and moderator_role in role_ids(user)
