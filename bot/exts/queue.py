"""/queue: moderators see their server's queue, pause and resume it, and give roles priority in it.

Hidden from members (default_member_permissions) and checked again on every invocation; every change is audited
(jobs.queue_control) and shows in /mod audit. What pausing means for /video and the runner is jobs.queue_control's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.errors import ERROR_MESSAGE
from bot.messages import described
from bot.moderating import moderate, reply
from bot.queue_pages import QueuePageButton, queue_message, queue_view
from jobs.queue_control import MAX_WEIGHT

if TYPE_CHECKING:
    from bot.client import VideoBot

Weight = app_commands.Range[int, 1, MAX_WEIGHT]


class Queue(commands.Cog):
    queue = app_commands.Group(
        name="queue",
        description=described("command.queue"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={ERROR_MESSAGE: "mod.error"},
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @queue.command(name="show", description=described("command.queue.show"))
    @moderator_only()
    async def show(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # the moderator check passed
        page = await self.bot.queue_control.page(interaction.guild_id)
        await reply(interaction, queue_message(page, locale), view=queue_view(interaction.guild_id, page, locale))

    @queue.command(name="pause", description=described("command.queue.pause"))
    @moderator_only()
    async def pause(self, interaction: discord.Interaction[VideoBot]) -> None:
        await moderate(interaction, self.bot.queue_control.pause)

    @queue.command(name="resume", description=described("command.queue.resume"))
    @moderator_only()
    async def resume(self, interaction: discord.Interaction[VideoBot]) -> None:
        await moderate(interaction, self.bot.queue_control.resume)

    @queue.command(name="priority", description=described("command.queue.priority"))
    @moderator_only()
    @app_commands.describe(role=described("option.role"), weight=described("option.weight"))
    async def priority(self, interaction: discord.Interaction[VideoBot], role: discord.Role, weight: Weight) -> None:
        # Discord checks the range in its clients only: the service refuses anything else politely.
        await moderate(interaction, lambda moderator: self.bot.queue_control.set_priority(moderator, role.id, weight))


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(QueuePageButton)
    await bot.add_cog(Queue(bot))
