"""Details: everything about a posted clip, for any member of its server who clicks, in an ephemeral embed in their
language.

The embed holds every setting (the prompts; the preset, aspect and size, duration with its frames and fps, steps and
seed as the first answer shows them, bot.clip_settings; the model and its licence, the guidance), how long the render
and the encode took, the clip's page in the web gallery while the server's gallery is public and the clip is in it,
and the /video command that makes the clip again (jobs.clip_options.command_line). The prompts are shown escaped, the
command verbatim in a code block that no prompt can close early, and everything fits Discord's embed limits whatever
the prompts hold. A clip a moderator hid from the gallery, or its creator deleted from there (JobView.withdrawn),
shows its details to its creator and the server's moderators only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from babel.numbers import format_decimal

from bot.clip_settings import clip_settings
from bot.formatting import safe_user_text, seconds
from bot.members import is_moderator
from bot.mentions import NOBODY
from bot.messages import language_of, text
from common.gallery_paths import absolute, item_path
from jobs.clip_options import command_line, options_of
from jobs.views import JobView, load_view

if TYPE_CHECKING:
    from bot.client import VideoBot
    from model.presets import Preset

DESCRIPTION_LIMIT = 4096
AUTHORS_CHARS = 300  # whatever a presets file says, so that the whole embed stays within Discord's 6,000
DETAILS_COLOUR = discord.Colour(0x5865F2)
FENCE = "```"
ZERO_WIDTH_SPACE = "\u200b"


async def show_details(interaction: discord.Interaction[VideoBot], job_id: int) -> None:
    """Answer the clicker with the clip's details, or why there are none to show."""
    locale = str(interaction.locale)
    # Answer within Discord's 3 seconds whatever the database is doing; the rest edits this.
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = interaction.client
    job = await load_view(bot.admission.database, job_id)
    words = text("clip.gone", locale, job_id=job_id) if job is None else await _refused(interaction, job)
    if job is None or words is not None:
        await interaction.edit_original_response(content=words, allowed_mentions=NOBODY)
        return
    embed = details_embed(job, bot.admission.presets.get(job.clip.preset_id), await gallery_link(bot, job), locale)
    await interaction.edit_original_response(embed=embed, allowed_mentions=NOBODY)


async def _refused(interaction: discord.Interaction[VideoBot], job: JobView) -> str | None:
    """Why the clicker sees none of the clip's details, or None where they see them."""
    locale = str(interaction.locale)
    if job.guild_id != interaction.guild_id:  # another server's clip is none of this one's business
        return text("button.other_server", locale)
    if job.withdrawn and job.user_id != interaction.user.id and not await is_moderator(interaction):
        return text("details.withdrawn", locale, job_id=job.id)
    return None


def details_embed(job: JobView, preset: Preset | None, gallery_link: str | None, locale: str) -> discord.Embed:
    """The clip's details; `preset` is None when this bot no longer knows the clip's preset (no command then)."""
    clip = job.clip
    embed = discord.Embed(
        title=text("details.title", locale, job_id=job.id),
        description=_description(job, preset, locale),
        colour=DETAILS_COLOUR,
        timestamp=job.created_at,
    )
    authors = safe_user_text(job.authors, AUTHORS_CHARS)
    model = text("post.model_value", locale, model=f"`{job.model_id}`", authors=authors)
    fields = [
        *clip_settings(preset, clip, locale),
        (text("details.guidance", locale), format_decimal(clip.guidance, "0.##", locale=language_of(locale))),
        (text("post.model", locale), model),
        (text("post.licence", locale), f"[{safe_user_text(job.licence, 200)}]({job.licence_url})"),
    ]
    if job.render_seconds is not None:
        fields.append((text("post.render_time", locale), seconds(job.render_seconds, locale)))
    if job.encode_seconds is not None:
        fields.append((text("details.encode_time", locale), seconds(job.encode_seconds, locale)))
    if gallery_link is not None:
        fields.append((text("details.gallery", locale), text("details.gallery_link", locale, url=gallery_link)))
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=True)
    return embed


def _description(job: JobView, preset: Preset | None, locale: str) -> str:
    """The prompts, escaped, and the command that makes the clip again: the command whole (it must reproduce the
    clip), the prompts cut to share what room is left."""
    clip = job.clip
    if preset is None:
        command = text("details.no_command", locale, preset=clip.preset_id)
    else:
        command = f"{FENCE}\n{fenced(command_line(options_of(preset, clip)))}\n{FENCE}"
    command_part = f"**{text('details.command', locale)}**\n{command}"
    prompts = [(text("details.prompt", locale), clip.prompt)]
    if clip.negative_prompt:
        prompts.append((text("details.negative_prompt", locale), clip.negative_prompt))
    headings = sum(len(f"**{heading}**\n\n") for heading, _ in prompts)
    room = (DESCRIPTION_LIMIT - len(command_part) - headings) // len(prompts)
    parts = [f"**{heading}**\n{safe_user_text(words, room)}" for heading, words in prompts]
    return "\n".join([*parts, command_part])


def fenced(line: str) -> str:
    """The line as it can stand in a code block: Discord ends a block at the first three backticks in a row, so an
    invisible space goes after every second backtick of a longer run (copied along, and harmless in a prompt)."""
    return re.sub(r"``(?=`)", "``" + ZERO_WIDTH_SPACE, line)


async def gallery_link(bot: VideoBot, job: JobView) -> str | None:
    """The clip's page in the web gallery: only while there is a web gallery to link to, the clip is in the server's
    gallery and the server's gallery is public."""
    if bot.gallery_links is None or job.withdrawn or await bot.gallery.item(job.guild_id, job.id) is None:
        return None
    gallery = await bot.gallery.settings(job.guild_id)
    return absolute(bot.gallery_links, item_path(gallery.slug, job.id)) if gallery.public else None
