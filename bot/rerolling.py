"""Reroll: a posted clip again, with the same settings and a new seed, as a new job of whoever clicked.

The new job is asked for as /video asks (bot.queueing): where the member clicked, with the options that reproduce the
clip (jobs.clip_options.options_of: the preset's defaults left out, so a server's lowered maxima lower them as they do
for /video) and a fresh seed. So it is charged to, credited to and posted for the clicker, within their quota; a
refusal is said in the clicker's language and charges nothing. A clip that left the gallery because a moderator hid it
or its creator deleted it is made again by no one (ClipWithdrawn).

One click makes one job: while a member's Reroll of a clip is between its click and its job being queued (or
refused), another click of theirs on it is answered, not queued. The guard lives in this process, which is the only
one serving its database (jobs.lease).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from bot.mentions import NOBODY
from bot.messages import text
from bot.queueing import may_post_here, queue_clip, refuse
from bot.refusals import clip_refusal_text
from jobs.clip_options import MAX_SEED, options_of
from jobs.errors import ClipWithdrawn, NoSuchJob, PresetUnavailable, RequestRefused
from jobs.views import load_view

if TYPE_CHECKING:
    import discord

    from bot.client import VideoBot
    from jobs.admission import JobAdmission
    from jobs.views import JobView

_rerolling: set[tuple[int, int]] = set()
"""(clicker, job) of every Reroll under way in this process."""


async def reroll(interaction: discord.Interaction[VideoBot], job_id: int) -> None:
    """Queue the clip of `job_id` again for the clicker with a new seed, answering them as /video does; a second
    click while the first is under way is told so."""
    under_way = (interaction.user.id, job_id)
    if under_way in _rerolling:  # checked and taken before any await: no other click runs in between
        words = text("reroll.in_flight", str(interaction.locale), job_id=job_id)
        await interaction.response.send_message(words, ephemeral=True, allowed_mentions=NOBODY)
        return
    _rerolling.add(under_way)
    try:
        await _reroll(interaction, job_id)
    finally:
        _rerolling.discard(under_way)


async def _reroll(interaction: discord.Interaction[VideoBot], job_id: int) -> None:
    locale = str(interaction.locale)
    if not await may_post_here(interaction):
        return
    # Answer within Discord's 3 seconds whatever the database is doing; the rest edits this.
    await interaction.response.defer(ephemeral=True, thinking=True)
    admission = interaction.client.admission
    try:
        job = await load_view(admission.database, job_id)
        if job is None:
            raise NoSuchJob(job_id)
        if job.guild_id != interaction.guild_id:
            await refuse(interaction, text("button.other_server", locale))
            return
        if job.withdrawn:
            raise ClipWithdrawn(job_id)
        options = _options(admission, job)
    except RequestRefused as refusal:
        await refuse(interaction, clip_refusal_text(refusal, locale))
        return
    await queue_clip(interaction, options)


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
