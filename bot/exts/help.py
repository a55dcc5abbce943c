"""/help: one ephemeral embed, in the member's language, about what members touch every day.

It explains /video and its options (read from the command itself, so a new option is explained as soon as it
exists), the prompt's flags, the member's credits in this server and when they come back, the buttons under a
posted video, the gallery and how to leave it, and the moderators' commands. Commands and options are named as the
member's Discord shows them (their language's names, where it has them). It pings no one and stays within Discord's
embed limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import EMBED_COLOUR
from bot.errors import ERROR_MESSAGE
from bot.exts.quota import window_text
from bot.exts.video import Video
from bot.members import role_ids
from bot.mentions import NOBODY
from bot.messages import NAMES, described, language_of, text
from bot.translator import option_name
from jobs.quota_policy import MemberRef, Standing

if TYPE_CHECKING:
    from bot.client import VideoBot

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024


class Help(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description=described("command.help"), extras={ERROR_MESSAGE: "help.error"})
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction[VideoBot]) -> None:
        locale = str(interaction.locale)
        assert interaction.guild_id is not None  # a guild-only command
        member = MemberRef(interaction.guild_id, interaction.user.id, role_ids(interaction.user))
        standing = await self.bot.admission.quota.standing(member)
        embed = help_embed(
            locale,
            standing=standing,
            default_cost=self.bot.admission.default_clip_cost(),
            model_loading=self.bot.runner.model_loading,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NOBODY)


def help_embed(locale: str, *, standing: Standing, default_cost: int, model_loading: bool) -> discord.Embed:
    def name(qualified: str) -> str:
        return f"`{command_name(qualified, locale)}`"

    intro = text("help.intro", locale)
    if model_loading:
        intro = f"{intro}\n\n{text('help.loading', locale)}"
    embed = discord.Embed(
        title=_fit(text("help.title", locale), TITLE_LIMIT),
        description=_fit(intro, DESCRIPTION_LIMIT),
        colour=EMBED_COLOUR,
    )
    fields = [
        (command_name("video", locale), _video_text(locale, jobs=name("jobs list"))),
        (text("help.flags_title", locale), text("help.flags", locale)),
        (text("help.credits_title", locale), _credits_text(locale, standing, default_cost, name("quota me"))),
        (text("help.buttons_title", locale), text("help.buttons", locale)),
        (
            text("help.gallery_title", locale),
            text(
                "help.gallery",
                locale,
                recent=name("gallery recent"),
                top=name("gallery top"),
                member=name("gallery member"),
                optout=name("gallery optout"),
                optin=name("gallery optin"),
                delete=name("gallery delete"),
            ),
        ),
        (
            text("help.moderators_title", locale),
            text(
                "help.moderators",
                locale,
                quota=name("quota"),
                queue=name("queue"),
                mod=name("mod"),
                settings=name("settings"),
                video=name("video"),
            ),
        ),
    ]
    for field_name, value in fields:
        embed.add_field(name=_fit(field_name, FIELD_NAME_LIMIT), value=_fit(value, FIELD_VALUE_LIMIT), inline=False)
    return embed


def _video_text(locale: str, *, jobs: str) -> str:
    """/video's options as the command declares them: each with its own description."""
    lines = [text("help.video", locale)]
    for parameter in Video.video.parameters:
        described_as = parameter.locale_description
        if described_as is not None and "key" in described_as.extras:
            params = {key: value for key, value in described_as.extras.items() if key != "key"}
            description = text(described_as.extras["key"], locale, **params)
        else:
            description = parameter.description
        lines.append(text("help.option", locale, name=option_name(parameter.name, locale), description=description))
    lines.append(text("help.video_answer", locale, jobs=jobs))
    return "\n".join(lines)


def _credits_text(locale: str, standing: Standing, default_cost: int, quota_me: str) -> str:
    if standing.allowance is None or standing.credits_left is None:
        allowance = text("help.credits_unlimited", locale)
    else:
        allowance = text(
            "help.credits",
            locale,
            allowance=standing.allowance,
            window=window_text(standing.window, locale),
            left=max(standing.credits_left, 0),
            resets_at=discord.utils.format_dt(standing.resets_at, "R"),
        )
    lines = [allowance, text("help.credits_default", locale, cost=default_cost, quota_me=quota_me)]
    if standing.banned:
        lines.append(text("help.banned", locale))
    return "\n".join(lines)


def command_name(qualified: str, locale: str) -> str:
    """A command as the member's Discord shows it ("/gallery optout"): each word in their language where it has a
    name there (bot.translator gives Discord the same names), else in English."""
    names = NAMES.get(language_of(locale), {})
    words = qualified.split()
    return "/" + " ".join(names.get("/" + " ".join(words[: i + 1]), word) for i, word in enumerate(words))


def _fit(words: str, limit: int) -> str:
    """Within one of Discord's embed limits: a catalogue longer than foreseen is cut, never refused."""
    return words if len(words) <= limit else words[: limit - 1] + "…"


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Help(bot))
