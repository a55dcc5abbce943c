"""/mod: bans, the audit log and the moderator role. Hidden from members; every handler checks again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.audit_pages import AuditPageButton, audit_message, audit_view
from bot.members import is_moderator
from bot.messages import ENGLISH, text
from bot.moderating import answer_unexpected, moderate, reply
from jobs.moderation import MAX_REASON_CHARS

if TYPE_CHECKING:
    from bot.client import VideoBot


class Mod(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description=ENGLISH["command.mod"],
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    async def cog_app_command_error(
        self, interaction: discord.Interaction[VideoBot], error: app_commands.AppCommandError
    ) -> None:
        await answer_unexpected(interaction, error)

    @mod.command(name="ban", description=ENGLISH["command.mod.ban"])
    @app_commands.describe(member=ENGLISH["option.member"], reason=ENGLISH["option.reason"])
    async def ban(
        self,
        interaction: discord.Interaction[VideoBot],
        member: discord.Member,
        reason: app_commands.Range[str, 1, MAX_REASON_CHARS] | None = None,
    ) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.ban(moderator, member.id, reason))

    @mod.command(name="unban", description=ENGLISH["command.mod.unban"])
    @app_commands.describe(member=ENGLISH["option.member"])
    async def unban(self, interaction: discord.Interaction[VideoBot], member: discord.Member) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.unban(moderator, member.id))

    @mod.command(name="audit", description=ENGLISH["command.mod.audit"])
    async def audit(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        if interaction.guild_id is None or not await is_moderator(interaction):
            await reply(interaction, text("mod.denied", locale))
            return
        content, page = audit_message(await self.bot.moderation.audit_page(interaction.guild_id), locale)
        await reply(interaction, content, view=audit_view(interaction.guild_id, page, first=True, locale=locale))

    @mod.command(name="role", description=ENGLISH["command.mod.role"])
    @app_commands.describe(role=ENGLISH["option.role"])
    async def role(self, interaction: discord.Interaction[VideoBot], role: discord.Role | None = None) -> None:
        # Only Manage Server may choose who moderates: a moderator role must not be able to hand itself on.
        if not interaction.permissions.manage_guild:
            await reply(interaction, text("mod.denied_manage_server", str(interaction.locale)))
            return
        role_id = None if role is None else role.id
        await moderate(interaction, lambda moderator: self.bot.moderation.set_moderator_role(moderator, role_id))


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(AuditPageButton)
    await bot.add_cog(Mod(bot))
