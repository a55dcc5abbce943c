"""/video: a prompt in, a queued job and an immediate answer out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.members import role_ids
from bot.mentions import NOBODY
from bot.messages import described, text
from bot.refusals import refusal_text
from jobs.clip_options import MAX_SEED
from jobs.errors import RequestRefused
from jobs.requests import VideoRequest
from model.contract import DEFAULT_UPLOAD_LIMIT_BYTES
from model.prompts import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 25 * 1024 * 1024  # a whole request to Discord, whatever the boost level


class Video(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(name="video", description=described("command.video"))
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=described("option.prompt"),
        negative_prompt=described("option.negative_prompt"),
        seed=described("option.seed"),
        preset=described("option.preset"),
    )
    async def video(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        negative_prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        preset: str | None = None,
    ) -> None:
        locale = str(interaction.locale)
        if interaction.guild_id is None or interaction.channel_id is None:
            await _refuse(interaction, text("guild_only", locale))
            return
        # Refuse before charging: a clip the bot cannot post would cost a render and a refund.
        missing = missing_post_permissions(interaction)
        if missing:
            await _refuse(interaction, text("bot.missing_permissions", locale, permissions=", ".join(missing)))
            return
        admission = self.bot.admission
        request = VideoRequest(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            user_name=interaction.user.display_name,
            options={"prompt": prompt, "negative_prompt": negative_prompt, "seed": seed, "preset_id": preset},
            max_bytes=min(interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT_BYTES, MAX_REQUEST_BYTES),
            role_ids=role_ids(interaction.user),
            locale=locale,
        )
        # Discord enforces the option limits in its clients, but anything can arrive: check again.
        try:
            valid = await admission.screen(request)
        except RequestRefused as refusal:
            await _refuse(interaction, refusal_text(refusal, locale))
            return
        # Answer within Discord's 3 seconds whatever the database is doing; the rest edits this.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            ticket = await admission.submit(valid)
        except RequestRefused as refusal:
            await interaction.edit_original_response(content=refusal_text(refusal, locale), allowed_mentions=NOBODY)
            return
        except Exception:
            log.exception("could not queue a /video request")
            await interaction.edit_original_response(content=text("error.unexpected", locale), allowed_mentions=NOBODY)
            return
        await self.bot.publisher.acknowledge(interaction, ticket)

    @video.autocomplete("preset")
    async def preset_choices(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        """Only what this bot serves, each with its default clip's cost: a catalogue entry it has no worker for is
        no choice at all."""
        locale = str(interaction.locale)
        return [
            app_commands.Choice(name=text("option.preset_choice", locale, preset=preset, cost=cost), value=preset)
            for preset, cost in self.bot.admission.served_costs().items()
            if typed.lower() in preset
        ][:25]


def missing_post_permissions(interaction: discord.Interaction) -> list[str]:
    """Names of the channel permissions the bot lacks to post a clip where it was asked for."""
    granted = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    needed = {
        "View Channel": granted.view_channel,
        "Send Messages in Threads" if in_thread else "Send Messages": (
            granted.send_messages_in_threads if in_thread else granted.send_messages
        ),
        "Attach Files": granted.attach_files,
        "Embed Links": granted.embed_links,
    }
    return [name for name, has in needed.items() if not has]


async def _refuse(interaction: discord.Interaction, message: str) -> None:
    await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NOBODY)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Video(bot))
