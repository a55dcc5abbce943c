"""/video: a prompt in, a queued job and an immediate answer out.

The first answer, within Discord's 3 seconds and before anything is charged, is the clip's settings as admission
resolved them (the prompt's flags applied) and its exact cost; admission then charges that cost (ValidRequest.cost)
and queues the job, and the publisher edits the answer into the job's status, below the settings.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.clip_settings import settings_embed
from bot.mentions import NOBODY
from bot.messages import described, text
from bot.refusals import refusal_text
from bot.video_requests import video_request
from jobs.clip_options import MAX_DURATION_SECONDS, MAX_SEED, durations, frames_of
from jobs.errors import RequestRefused
from jobs.pricing import clip_cost
from model.contract import ClipSpec
from model.presets import ASPECTS, MAX_STEPS, Preset
from model.prompts import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

MAX_CHOICES = 25  # Discord's limit for an autocomplete answer
CHOICE_NAME_CHARS = 100  # Discord's limit for a choice's name


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
        aspect=described("option.aspect"),
        duration=described("option.duration"),
        steps=described("option.steps"),
    )
    @app_commands.choices(
        aspect=[app_commands.Choice(name=described(f"choice.aspect.{aspect}"), value=aspect) for aspect in ASPECTS]
    )
    async def video(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        negative_prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        preset: str | None = None,
        aspect: str | None = None,
        duration: app_commands.Range[int, 1, MAX_DURATION_SECONDS] | None = None,
        steps: app_commands.Range[int, 1, MAX_STEPS] | None = None,
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
        options = {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "seed": seed,
            "preset": preset,
            "aspect": aspect,
            "duration": duration,
            "steps": steps,
        }
        request = video_request(interaction, options)  # where it was asked, too: a server's rules depend on it
        # Discord enforces the option limits in its clients, but anything can arrive: check again.
        try:
            valid = await admission.screen(request)
        except RequestRefused as refusal:
            await _refuse(interaction, refusal_text(refusal, locale))
            return
        # Answer within Discord's 3 seconds whatever the database is doing, with what will be charged: the cost
        # submit charges is this one. The status edits that follow keep the settings embed.
        await interaction.response.send_message(
            text("video.first_answer", locale, cost=valid.cost),
            embed=settings_embed(valid, locale),
            ephemeral=True,
            allowed_mentions=NOBODY,
        )
        try:
            ticket = await admission.submit(valid)
        except RequestRefused as refusal:
            await _replace_answer(interaction, refusal_text(refusal, locale))
            return
        except Exception:
            log.exception("could not queue a /video request")
            await _replace_answer(interaction, text("error.unexpected", locale))
            return
        await self.bot.publisher.acknowledge(interaction, ticket)

    @video.autocomplete("preset")
    async def preset_choices(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        """Only what this bot serves, each with its description and its default clip's cost: a catalogue entry it has
        no worker for is no choice at all."""
        locale, typed = str(interaction.locale), str(typed or "").lower()
        admission = self.bot.admission
        return [
            app_commands.Choice(name=_preset_choice_name(admission.presets[preset_id], cost, locale), value=preset_id)
            for preset_id, cost in admission.served_costs().items()
            if typed in preset_id or typed in admission.presets[preset_id].description.lower()
        ][:MAX_CHOICES]

    @video.autocomplete("duration")
    async def duration_choices(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[int]]:
        """The seconds the chosen preset (or the default one) can make, each with its frames and its cost with the
        aspect and steps chosen so far."""
        locale, typed = str(interaction.locale), str(typed or "").strip()
        admission = self.bot.admission
        chosen = interaction.namespace.preset
        served = admission.served_presets
        preset_id = chosen if isinstance(chosen, str) and chosen in served else admission.default_preset_id
        preset = admission.presets.get(preset_id)
        if preset is None:
            return []
        clip = _chosen_clip(preset, interaction.namespace)
        choices = []
        for seconds in durations(preset):
            if not str(seconds).startswith(typed):
                continue
            frames = frames_of(preset, seconds)
            credits = clip_cost(preset, dataclasses.replace(clip, frames=frames))
            name = text(
                "option.duration_choice",
                locale,
                seconds=text("value.seconds", locale, seconds=seconds),
                frames=frames,
                fps=preset.fps,
                credits=text("value.credits", locale, credits=credits),
            )
            choices.append(app_commands.Choice(name=name[:CHOICE_NAME_CHARS], value=seconds))
        return choices[:MAX_CHOICES]


def _preset_choice_name(preset: Preset, cost: int, locale: str) -> str:
    """The preset, its description and its default clip's cost, the description cut to fit Discord's 100
    characters."""
    if not preset.description:
        return text("option.preset_choice", locale, preset=preset.id, cost=cost)[:CHOICE_NAME_CHARS]
    room = CHOICE_NAME_CHARS - len(text("option.preset_described", locale, preset=preset.id, description="", cost=cost))
    description = preset.description if len(preset.description) <= room else preset.description[: room - 1] + "…"
    return text("option.preset_described", locale, preset=preset.id, description=description, cost=cost)[
        :CHOICE_NAME_CHARS
    ]


def _chosen_clip(preset: Preset, namespace: app_commands.Namespace) -> ClipSpec:
    """The preset's default clip with the aspect and steps chosen so far, where the preset allows them (an
    autocomplete's namespace holds whatever the member has typed)."""
    aspect = namespace.aspect if namespace.aspect in preset.resolutions else None
    clip = preset.default_clip(aspect=aspect)
    steps = namespace.steps
    if isinstance(steps, int) and preset.min_steps <= steps <= preset.max_steps:
        clip = dataclasses.replace(clip, steps=steps)
    return clip


def missing_post_permissions(interaction: discord.Interaction) -> list[str]:
    """Names of the channel permissions the bot lacks to post a clip where it was asked for, as the member's
    Discord names them."""
    granted = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    needed = {
        "view_channel": granted.view_channel,
        "send_messages_in_threads" if in_thread else "send_messages": (
            granted.send_messages_in_threads if in_thread else granted.send_messages
        ),
        "attach_files": granted.attach_files,
        "embed_links": granted.embed_links,
    }
    return [text(f"permission.{name}", str(interaction.locale)) for name, has in needed.items() if not has]


async def _refuse(interaction: discord.Interaction, message: str) -> None:
    await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NOBODY)


async def _replace_answer(interaction: discord.Interaction, message: str) -> None:
    """The first answer becomes why the job was not queued after all: its settings embed goes, nothing was charged."""
    await interaction.edit_original_response(content=message, embeds=[], allowed_mentions=NOBODY)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Video(bot))
