"""/gallery: the server's community gallery in Discord.

Members browse it (recent, top, member: pages in bot.gallery_pages), take their clips out of it and back
(optout, optin), and delete a clip of theirs from it and its files from the bot (delete). Moderators show or change
its settings (web visibility, its address, its channel) and hide or unhide a clip; each change is audited
(jobs.gallery) and shows in /mod audit. Every answer is ephemeral and pings no one; what is in the gallery is
jobs.gallery's to say, read again on every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.errors import ERROR_MESSAGE
from bot.gallery_pages import GalleryList, GalleryPageButton, gallery_page
from bot.mentions import NOBODY
from bot.messages import described, text
from bot.moderating import moderate, moderated, reply
from bot.refusals import delete_refusal_text
from common.gallery_paths import absolute, gallery_path
from jobs.errors import RequestRefused
from jobs.gallery import Gallery, Order
from jobs.moderation import AuditView, Moderator

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.client import VideoBot

JobNumber = app_commands.Range[int, 1]


class GalleryCommands(commands.Cog):
    gallery = app_commands.Group(
        name="gallery",
        description=described("command.gallery"),
        guild_only=True,
        extras={ERROR_MESSAGE: "gallery.error"},
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    # -- members: the lists ----------------------------------------------------------

    @gallery.command(name="recent", description=described("command.gallery.recent"))
    async def recent(self, interaction: discord.Interaction[VideoBot]) -> None:
        await self._show(interaction, "recent")

    @gallery.command(name="top", description=described("command.gallery.top"))
    async def top(self, interaction: discord.Interaction[VideoBot]) -> None:
        await self._show(interaction, "top")

    @gallery.command(name="member", description=described("command.gallery.member"))
    @app_commands.describe(member=described("option.member"))
    async def member(self, interaction: discord.Interaction[VideoBot], member: discord.User) -> None:
        # A User, not a Member: the clips of someone who has left the server stay theirs to be credited for.
        await self._show(interaction, "recent", member.id)

    async def _show(
        self, interaction: discord.Interaction[VideoBot], order: Order, creator_id: int | None = None
    ) -> None:
        assert interaction.guild_id is not None  # a guild-only group
        shown = GalleryList(order, interaction.guild_id, creator_id)
        content, view = await gallery_page(self.bot, shown, str(interaction.locale))
        await _reply(interaction, content, view=view)

    # -- members: their own clips ------------------------------------------------------

    @gallery.command(name="optout", description=described("command.gallery.optout"))
    async def optout(self, interaction: discord.Interaction[VideoBot]) -> None:
        assert interaction.guild_id is not None  # a guild-only group
        left = await self.bot.gallery.opt_out(interaction.guild_id, interaction.user.id)
        await _reply(
            interaction, text("gallery.opted_out" if left else "gallery.already_opted_out", str(interaction.locale))
        )
        await self.bot.publisher.cross_poster.withdraw(interaction.guild_id)

    @gallery.command(name="optin", description=described("command.gallery.optin"))
    async def optin(self, interaction: discord.Interaction[VideoBot]) -> None:
        assert interaction.guild_id is not None  # a guild-only group
        back = await self.bot.gallery.opt_in(interaction.guild_id, interaction.user.id)
        await _reply(
            interaction, text("gallery.opted_in" if back else "gallery.already_opted_in", str(interaction.locale))
        )

    @gallery.command(name="delete", description=described("command.gallery.delete"))
    @app_commands.describe(job=described("option.job"))
    async def delete(self, interaction: discord.Interaction[VideoBot], job: JobNumber) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # a guild-only group
        try:
            await self.bot.gallery.delete(interaction.guild_id, job, interaction.user.id)
        except RequestRefused as refusal:
            await _reply(interaction, delete_refusal_text(refusal, locale))
            return
        await _reply(interaction, text("gallery.deleted", locale, job_id=job))
        await self.bot.publisher.cross_poster.withdraw(interaction.guild_id)

    # -- moderators ----------------------------------------------------------------

    @gallery.command(name="settings", description=described("command.gallery.settings"))
    @moderator_only()
    @app_commands.describe(
        public=described("option.public"),
        channel=described("option.gallery_channel"),
        clear_channel=described("option.clear_channel"),
        new_link=described("option.new_link"),
    )
    async def settings(
        self,
        interaction: discord.Interaction[VideoBot],
        public: bool | None = None,
        channel: discord.TextChannel | None = None,
        clear_channel: bool = False,
        new_link: bool = False,
    ) -> None:
        """With no option, the settings as they are; with some, each change made (and audited), then the settings."""
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # the moderator check passed
        service = self.bot.gallery
        if channel is not None and clear_channel:
            await reply(interaction, text("gallery.settings_conflict", locale))
            return
        if channel is not None and (missing := missing_post_permissions(channel, locale)):
            words = text("gallery.channel_missing_permissions", locale, channel=channel.mention, permissions=missing)
            await reply(interaction, words)
            return
        current = await service.settings(interaction.guild_id)
        # Only what changes is made, and audited: setting what is already so leaves no audit row.
        changes: list[Callable[[Moderator], Awaitable[AuditView]]] = []
        if public is not None and public != current.public:
            changes.append(lambda moderator: service.set_public(moderator, public))
        channel_id = None if channel is None else channel.id
        if (channel is not None or clear_channel) and channel_id != current.channel_id:
            changes.append(lambda moderator: service.set_channel(moderator, channel_id))
        if new_link:
            changes.append(service.rotate_link)
        lines = []
        if changes:
            lines.append(await moderated(interaction, *changes))
            current = await service.settings(interaction.guild_id)  # as the changes left it
        lines.append(settings_message(current, self.bot.gallery_links, locale))
        await reply(interaction, "\n".join(lines))

    @gallery.command(name="hide", description=described("command.gallery.hide"))
    @moderator_only()
    @app_commands.describe(job=described("option.job"))
    async def hide(self, interaction: discord.Interaction[VideoBot], job: JobNumber) -> None:
        await moderate(interaction, lambda moderator: self.bot.gallery.hide(moderator, job))
        assert interaction.guild_id is not None  # the moderator check passed
        await self.bot.publisher.cross_poster.withdraw(interaction.guild_id)

    @gallery.command(name="unhide", description=described("command.gallery.unhide"))
    @moderator_only()
    @app_commands.describe(job=described("option.job"))
    async def unhide(self, interaction: discord.Interaction[VideoBot], job: JobNumber) -> None:
        await moderate(interaction, lambda moderator: self.bot.gallery.unhide(moderator, job))


def settings_message(gallery: Gallery, link_base: str | None, locale: str) -> str:
    if not gallery.public:
        visibility = text("gallery.settings_private", locale)
    elif link_base is None:
        visibility = text("gallery.settings_public_no_web", locale)
    else:
        address = absolute(link_base, gallery_path(gallery.slug))
        visibility = text("gallery.settings_public", locale, address=address)
    channel = text("value.none", locale) if gallery.channel_id is None else f"<#{gallery.channel_id}>"
    return text("gallery.settings", locale, visibility=visibility, channel=channel)


def missing_post_permissions(channel: discord.TextChannel, locale: str) -> str:
    """The channel permissions the bot lacks to cross-post clips there, named as the member's Discord names them;
    "" for none."""
    granted = channel.permissions_for(channel.guild.me)
    needed = {
        "view_channel": granted.view_channel,
        "send_messages": granted.send_messages,
        "attach_files": granted.attach_files,
        "embed_links": granted.embed_links,
    }
    return ", ".join(text(f"permission.{name}", locale) for name, has in needed.items() if not has)


async def _reply(
    interaction: discord.Interaction[VideoBot], content: str, *, view: discord.ui.View = discord.utils.MISSING
) -> None:
    """Members' answers are seen by the member alone, and ping no one."""
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NOBODY, view=view)


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(GalleryPageButton)
    await bot.add_cog(GalleryCommands(bot))
