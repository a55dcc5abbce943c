"""/mod: bans, the audit log and the moderator role. Hidden from members, and checked again on every invocation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.audit_pages import AuditPageButton, audit_message, audit_view
from bot.checks import moderator_only, server_managers_only
from bot.errors import ERROR_MESSAGE
from bot.messages import described
from bot.moderating import moderate, reply
from jobs.moderation import MAX_REASON_CHARS

if TYPE_CHECKING:
    from bot.client import VideoBot


class Mod(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description=described("command.mod"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={ERROR_MESSAGE: "mod.error"},
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @mod.command(name="ban", description=described("command.mod.ban"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"), reason=described("option.reason"))
    async def ban(
        self,
        interaction: discord.Interaction[VideoBot],
        member: discord.Member,
        reason: app_commands.Range[str, 1, MAX_REASON_CHARS] | None = None,
    ) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.ban(moderator, member.id, reason))

    @mod.command(name="unban", description=described("command.mod.unban"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"))
    async def unban(self, interaction: discord.Interaction[VideoBot], member: discord.Member) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.unban(moderator, member.id))

    @mod.command(name="audit", description=described("command.mod.audit"))
    @moderator_only()
    async def audit(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # the moderator check passed
        content, page = audit_message(await self.bot.moderation.audit_page(interaction.guild_id), locale)
        await reply(interaction, content, view=audit_view(interaction.guild_id, page, first=True, locale=locale))

    @mod.command(name="role", description=described("command.mod.role"))
    # Only Manage Server may choose who moderates: a moderator role must not be able to hand itself on.
    @server_managers_only()
    @app_commands.describe(role=described("option.role"))
    async def role(self, interaction: discord.Interaction[VideoBot], role: discord.Role | None = None) -> None:
        role_id = None if role is None else role.id
        await moderate(interaction, lambda moderator: self.bot.moderation.set_moderator_role(moderator, role_id))


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(AuditPageButton)
    await bot.add_cog(Mod(bot))
