"""Reroll: a posted clip again, with the same settings and a new seed, as a new job of whoever clicked.

The new job goes through what /video goes through: the bot's permission to post where the member clicked, the
options that reproduce the clip (jobs.clip_options.options_of) with a fresh seed, JobAdmission.screen (the options,
the server's rules) and submit (the clicker's quota, charged in the same transaction), then the publisher's status.
So it is charged to, credited to and posted for the clicker, in the channel where they clicked; a refusal is said in
the clicker's language and charges nothing.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from bot.clip_settings import settings_embed
from bot.exts.video import missing_post_permissions
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import clip_refusal_text
from bot.video_requests import video_request
from jobs.clip_options import MAX_SEED, options_of
from jobs.errors import NoSuchJob, PresetUnavailable, RequestRefused
from jobs.views import load_view

if TYPE_CHECKING:
    import discord

    from bot.client import VideoBot
    from jobs.admission import JobAdmission
    from jobs.views import JobView

log = logging.getLogger(__name__)


async def reroll(interaction: discord.Interaction[VideoBot], job_id: int) -> None:
    """Queue the clip of `job_id` again for the clicker with a new seed, answering them as /video does."""
    locale = str(interaction.locale)
    if interaction.guild_id is None or interaction.channel_id is None:
        await interaction.response.send_message(text("guild_only", locale), ephemeral=True, allowed_mentions=NOBODY)
        return
    # Refuse before charging: a clip the bot cannot post would cost a render and a refund.
    missing = missing_post_permissions(interaction)
    if missing:
        words = text("bot.missing_permissions", locale, permissions=", ".join(missing))
        await interaction.response.send_message(words, ephemeral=True, allowed_mentions=NOBODY)
        return
    # Answer within Discord's 3 seconds whatever the database is doing; the rest edits this.
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = interaction.client
    try:
        job = await load_view(bot.admission.database, job_id)
        if job is None:
            raise NoSuchJob(job_id)
        if job.guild_id != interaction.guild_id:
            await _answer(interaction, text("button.other_server", locale))
            return
        valid = await bot.admission.screen(video_request(interaction, _options(bot.admission, job)))
    except RequestRefused as refusal:
        await _answer(interaction, clip_refusal_text(refusal, locale))
        return
    # The settings and the exact cost before anything is charged, as /video's first answer shows them.
    await interaction.edit_original_response(
        content=text("video.first_answer", locale, cost=valid.cost),
        embed=settings_embed(valid, locale),
        allowed_mentions=NOBODY,
    )
    try:
        ticket = await bot.admission.submit(valid)
    except RequestRefused as refusal:
        await _answer(interaction, clip_refusal_text(refusal, locale))
        return
    except Exception:
        log.exception("could not queue a reroll of job %s", job_id)
        await _answer(interaction, text("error.unexpected", locale))
        return
    await bot.publisher.acknowledge(interaction, ticket)


def _options(admission: JobAdmission, job: JobView) -> dict[str, object]:
    """The /video options that make the job's clip again, with a seed it was not made with."""
    preset = admission.presets.get(job.clip.preset_id)
    if preset is None:
        raise PresetUnavailable(job.clip.preset_id, admission.served_presets)
    return options_of(preset, job.clip) | {"seed": fresh_seed(job.clip.seed)}


def fresh_seed(old: int) -> int:
    """A random seed other than `old`: a reroll that drew the same seed would render the same clip."""
    while (seed := secrets.randbelow(MAX_SEED + 1)) == old:
        pass
    return seed


async def _answer(interaction: discord.Interaction[VideoBot], words: str) -> None:
    """The answer becomes why nothing was queued: no settings embed, nothing charged."""
    await interaction.edit_original_response(content=words, embeds=[], allowed_mentions=NOBODY)
