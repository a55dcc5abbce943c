"""Cancelling a job: `/jobs cancel` and the Cancel button on the requester's status message.

The requester may cancel their own job, a moderator of its server anyone's there; the job domain (JobRunner.cancel)
does the rest. The button is a DynamicItem whose custom_id carries the job id, so it keeps working after a restart:
no view state lives in the bot, and who clicks is checked on every click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.job_buttons import JOB_ID, JobButton
from bot.members import is_moderator
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import refusal_text
from jobs.errors import JobFinished, NoSuchJob, NotYourJob, RequestRefused
from jobs.runner import CancelOutcome
from jobs.views import load_view

if TYPE_CHECKING:
    from bot.client import VideoBot


async def cancel_job(interaction: discord.Interaction[VideoBot], job_id: int) -> str:
    """Cancel the job if the invoking member may; what happened (or why not) in the member's words."""
    locale = str(interaction.locale)
    try:
        outcome = await _cancel(interaction, job_id)
    except RequestRefused as refusal:
        return refusal_text(refusal, locale)
    key = "cancel.cancelled" if outcome is CancelOutcome.CANCELLED else "cancel.stopping"
    return text(key, locale, job_id=job_id)


async def _cancel(interaction: discord.Interaction[VideoBot], job_id: int) -> CancelOutcome:
    runner = interaction.client.runner
    job = await load_view(runner.database, job_id)
    if job is None:
        raise NoSuchJob(job_id)
    if job.user_id != interaction.user.id and not (
        job.guild_id == interaction.guild_id and await is_moderator(interaction)
    ):
        raise NotYourJob(job_id)
    outcome = await runner.cancel(job_id)
    if outcome is CancelOutcome.NOT_FOUND:
        raise NoSuchJob(job_id)
    if outcome is CancelOutcome.FINISHED:
        raise JobFinished(job_id)
    return outcome


def cancel_view(job_id: int, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton.labelled(job_id, locale))
    return view


class CancelButton(JobButton, template=rf"cancel:{JOB_ID}"):
    action, label_key = "cancel", "status.cancel_button"
    style = discord.ButtonStyle.danger
    unexpected = "jobs.error"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        # Cancelling edits the status message and the database: answer within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        words = await cancel_job(interaction, self.job_id)
        await interaction.edit_original_response(content=words, allowed_mentions=NOBODY)
