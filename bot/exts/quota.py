"""/quota: a member's own credits (`me`), and the server's quota settings for moderators.

Discord hides commands per top-level command only, so /quota stays visible to members for
`/quota me`; its moderator subcommands each carry the moderator check, which refuses anyone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.errors import ERROR_MESSAGE
from bot.members import role_ids
from bot.messages import described, text
from bot.moderating import moderate, reply
from common.states import WindowKind
from jobs.quota import MAX_CREDITS, QuotaWindow
from jobs.quota_policy import MemberRef, Standing

if TYPE_CHECKING:
    from bot.client import VideoBot

Credits = app_commands.Range[int, 0, MAX_CREDITS]
Grant = app_commands.Range[int, 1, MAX_CREDITS]
WINDOW_CHOICES = [
    app_commands.Choice(name=described(f"choice.window.{kind.value}"), value=kind.value) for kind in WindowKind
]


class Quota(commands.Cog):
    quota = app_commands.Group(
        name="quota", description=described("command.quota"), guild_only=True, extras={ERROR_MESSAGE: "mod.error"}
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    async def _standing(self, guild_id: int, member: discord.Member | discord.User) -> Standing:
        return await self.bot.admission.quota.standing(MemberRef(guild_id, member.id, role_ids(member)))

    @quota.command(name="me", description=described("command.quota.me"))
    async def me(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        if interaction.guild_id is None:
            await reply(interaction, text("guild_only", locale))
            return
        standing = await self._standing(interaction.guild_id, interaction.user)
        cost = self.bot.admission.default_clip_cost()
        lines = [
            text(
                "quota.me",
                locale,
                credits=_credits_line(standing, locale),
                active=standing.active_jobs,
                max_active=standing.max_active_jobs,
                default_cost=text("quota.default_cost", locale, cost=cost),
            )
        ]
        if standing.banned:
            lines.append(text("quota.banned", locale))
        await reply(interaction, "\n".join(lines))

    @quota.command(name="show", description=described("command.quota.show"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"))
    async def show(self, interaction: discord.Interaction[VideoBot], member: discord.Member) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # the moderator check passed
        standing = await self._standing(interaction.guild_id, member)
        ban = text("quota.banned", locale) if standing.banned else text("quota.not_banned", locale)
        if standing.banned and standing.ban_reason:
            ban = f"{ban} ({standing.ban_reason})"
        override = text("value.none", locale) if standing.override is None else str(standing.override)
        content = text(
            "quota.show",
            locale,
            member=member.mention,
            credits=_credits_line(standing, locale),
            active=standing.active_jobs,
            max_active=standing.max_active_jobs,
            override=override,
            ban=ban,
        )
        await reply(interaction, content)

    @quota.command(name="set-default", description=described("command.quota.set_default"))
    @moderator_only()
    @app_commands.describe(credits=described("option.credits"))
    async def set_default(self, interaction: discord.Interaction[VideoBot], credits: Credits) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.set_default(moderator, credits))

    @quota.command(name="set-role", description=described("command.quota.set_role"))
    @moderator_only()
    @app_commands.describe(
        role=described("option.role"), credits=described("option.credits"), unlimited=described("option.unlimited")
    )
    async def set_role(
        self,
        interaction: discord.Interaction[VideoBot],
        role: discord.Role,
        credits: Credits | None = None,
        unlimited: bool = False,
    ) -> None:
        await moderate(
            interaction,
            lambda moderator: self.bot.moderation.set_role(moderator, role.id, credits, unlimited=unlimited),
        )

    @quota.command(name="set-member", description=described("command.quota.set_member"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"), credits=described("option.credits"))
    async def set_member(
        self, interaction: discord.Interaction[VideoBot], member: discord.Member, credits: Credits | None = None
    ) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.set_member(moderator, member.id, credits))

    @quota.command(name="grant", description=described("command.quota.grant"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"), credits=described("option.grant_credits"))
    async def grant(self, interaction: discord.Interaction[VideoBot], member: discord.Member, credits: Grant) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.grant(moderator, member.id, credits))

    @quota.command(name="reset", description=described("command.quota.reset"))
    @moderator_only()
    @app_commands.describe(member=described("option.member"))
    async def reset(self, interaction: discord.Interaction[VideoBot], member: discord.Member) -> None:
        await moderate(interaction, lambda moderator: self.bot.moderation.reset(moderator, member.id))

    @quota.command(name="window", description=described("command.quota.window"))
    @moderator_only()
    @app_commands.describe(kind=described("option.window"), reset_hour=described("option.reset_hour"))
    @app_commands.choices(kind=WINDOW_CHOICES)
    async def window(
        self,
        interaction: discord.Interaction[VideoBot],
        kind: str,
        reset_hour: app_commands.Range[int, 0, 23] = 0,
    ) -> None:
        # discord.py does not check a command's choices: the service refuses anything else politely.
        await moderate(interaction, lambda moderator: self.bot.moderation.set_window(moderator, kind, reset_hour))


def _credits_line(standing: Standing, locale: str) -> str:
    if standing.allowance is None or standing.credits_left is None:
        return text("quota.unlimited", locale)
    return text(
        "quota.credits",
        locale,
        left=standing.credits_left,
        allowance=standing.allowance,
        window=window_text(standing.window, locale),
        resets_at=discord.utils.format_dt(standing.resets_at, "R"),
    )


def window_text(window: QuotaWindow, locale: str) -> str:
    if window.kind is WindowKind.ROLLING:
        return text("window.rolling", locale)
    return text("window.daily", locale, hour=window.reset_hour)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Quota(bot))
