"""/video: a prompt in, a queued job and an immediate answer out, through bot.queueing (as Reroll does).

The first answer, within Discord's 3 seconds and before anything is charged, is the clip's settings as admission
resolved them (the prompt's flags applied) and its exact cost; admission then charges that cost (ValidRequest.cost)
and queues the job, and the publisher edits the answer into the job's status, below the settings. The preset and
duration are suggested as the member types, each with what it would cost: the durations through admission's own
checks (the prompt's flags, the server's rules), so a suggestion is never refused nor priced otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.messages import described, text
from bot.queueing import may_post_here, queue_clip
from bot.video_requests import video_request
from jobs.clip_options import MAX_DURATION_SECONDS, MAX_SEED, OPTION_NAMES
from jobs.errors import RequestRefused
from model.presets import ASPECTS, MAX_STEPS, Preset
from model.prompts import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from bot.client import VideoBot

MAX_CHOICES = 25  # Discord's limit for an autocomplete answer
CHOICE_NAME_CHARS = 100  # Discord's limit for a choice's name
UNTYPED_PROMPT = "…"
"""Stands in for a prompt not typed yet while durations are suggested, so that the other options still count."""


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
        interaction: discord.Interaction[VideoBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        negative_prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        preset: str | None = None,
        aspect: str | None = None,
        duration: app_commands.Range[int, 1, MAX_DURATION_SECONDS] | None = None,
        steps: app_commands.Range[int, 1, MAX_STEPS] | None = None,
    ) -> None:
        if not await may_post_here(interaction):
            return
        options = {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "seed": seed,
            "preset": preset,
            "aspect": aspect,
            "duration": duration,
            "steps": steps,
        }
        await queue_clip(interaction, options)

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
    async def duration_choices(
        self, interaction: discord.Interaction[VideoBot], typed: str
    ) -> list[app_commands.Choice[int]]:
        """The seconds /video would take with what the member has chosen so far (the prompt's flags and the server's
        rules included: JobAdmission.screen_durations), each with its frames and the cost /video would charge."""
        locale, typed = str(interaction.locale), str(typed or "").strip()
        if interaction.guild_id is None or interaction.channel_id is None:
            return []
        chosen = {name: getattr(interaction.namespace, name) for name in OPTION_NAMES if name != "duration"}
        if not (isinstance(chosen["prompt"], str) and chosen["prompt"].strip()):
            chosen["prompt"] = UNTYPED_PROMPT
        try:
            screened = await self.bot.admission.screen_durations(video_request(interaction, chosen))
        except RequestRefused:
            return []  # /video would refuse whatever the duration, and says why when sent
        choices = []
        for seconds, valid in screened.items():
            if not str(seconds).startswith(typed):
                continue
            name = text(
                "option.duration_choice",
                locale,
                seconds=text("value.seconds", locale, seconds=seconds),
                frames=valid.clip.frames,
                fps=valid.clip.fps,
                credits=text("value.credits", locale, credits=valid.cost),
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


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Video(bot))
