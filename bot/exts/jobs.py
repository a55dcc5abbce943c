"""/jobs: a member's own recent jobs, and cancelling one (a moderator may cancel anyone's in their server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cancelling import CancelButton, cancel_job
from bot.errors import ERROR_MESSAGE
from bot.mentions import NOBODY
from bot.messages import described, text
from jobs.views import JobView, recent_views

if TYPE_CHECKING:
    from bot.client import VideoBot

PROMPT_CHARS = 60  # of each job's prompt in the list: ten lines stay well within a message


class Jobs(commands.Cog):
    jobs = app_commands.Group(
        name="jobs", description=described("command.jobs"), guild_only=True, extras={ERROR_MESSAGE: "jobs.error"}
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @jobs.command(name="list", description=described("command.jobs.list"))
    async def list_jobs(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # a guild-only group
        views = await recent_views(self.bot.runner.database, interaction.guild_id, interaction.user.id)
        await _reply(interaction, jobs_message(views, locale))

    @jobs.command(name="cancel", description=described("command.jobs.cancel"))
    @app_commands.describe(job=described("option.job"))
    async def cancel(self, interaction: discord.Interaction[VideoBot], job: app_commands.Range[int, 1]) -> None:
        # Cancelling may edit the job's status message first: answer within Discord's 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content=await cancel_job(interaction, job), allowed_mentions=NOBODY)


def jobs_message(views: list[JobView], locale: str) -> str:
    if not views:
        return text("jobs.empty", locale)
    lines = [text("jobs.title", locale, count=len(views))]
    for view in views:
        prompt = view.clip.prompt.replace("`", "'")
        if len(prompt) > PROMPT_CHARS:
            prompt = prompt[: PROMPT_CHARS - 1] + "…"
        lines.append(
            text(
                "jobs.line",
                locale,
                job_id=view.id,
                state=text(f"state.{view.state.value}", locale),
                created_at=discord.utils.format_dt(view.created_at, "R"),
                prompt=f"`{prompt}`",
            )
        )
    return "\n".join(lines)


async def _reply(interaction: discord.Interaction[VideoBot], content: str) -> None:
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NOBODY)


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(CancelButton)
    await bot.add_cog(Jobs(bot))
