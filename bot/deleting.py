"""Delete: the requester of a clip, or a moderator of its server, takes its post down, after saying yes once more.

The Delete button under a post asks first, ephemerally ("Delete job #12?"), because a misclick must not destroy a
clip: its Delete (`delete-yes:<job_id>`) deletes and its Keep (`delete-no:<job_id>`) leaves everything as it is. Both
are DynamicItems, so a confirmation outlives a restart, and who clicks is checked again on the confirming click.

What a delete does besides removing the post: the requester's takes the clip out of the gallery for good, its files
with it (GalleryService.delete); a moderator's, of someone else's clip, hides it from the gallery
(GalleryService.hide, in /mod audit). Either way the gallery channel's copies of clips no longer in the gallery are
withdrawn (bot.cross_posts). Credits stay spent. A second delete finds the post gone and says so.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import discord

from bot.job_buttons import JOB_ID, JobButton
from bot.members import is_moderator
from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import clip_refusal_text
from jobs.errors import AlreadyHidden, NoSuchJob, NotInGallery, NotYourJob, RequestRefused
from jobs.moderation import Moderator
from jobs.views import JobView, load_view

if TYPE_CHECKING:
    from bot.client import VideoBot


class Deleter(enum.Enum):
    REQUESTER = "requester"  # the clip goes from the gallery too
    MODERATOR = "moderator"  # someone else's clip: hidden from the gallery, audited


async def ask_to_delete(interaction: discord.Interaction[VideoBot], job_id: int) -> None:
    """Ask the clicker to confirm, if they may delete the clip; else say why not."""
    locale = str(interaction.locale)
    # Answer within Discord's 3 seconds whatever the database is doing; the rest edits this.
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        job = await _job(interaction, job_id)
        deleter = await _deleter(interaction, job)
    except RequestRefused as refusal:
        await interaction.edit_original_response(content=clip_refusal_text(refusal, locale), allowed_mentions=NOBODY)
        return
    key = "delete.confirm_own" if deleter is Deleter.REQUESTER else "delete.confirm_moderator"
    await interaction.edit_original_response(
        content=text(key, locale, job_id=job_id, creator=f"<@{job.user_id}>"),
        view=confirm_view(job_id, locale),
        allowed_mentions=NOBODY,
    )


async def delete_clip(interaction: discord.Interaction[VideoBot], job_id: int) -> str:
    """Delete the clip's post as the clicker may (checked again: rights change, and a click can be forged); what
    happened, or why not, in the clicker's words."""
    locale = str(interaction.locale)
    try:
        job = await _job(interaction, job_id)
        deleter = await _deleter(interaction, job)
    except RequestRefused as refusal:
        return clip_refusal_text(refusal, locale)
    bot = interaction.client
    left_gallery = await _take_out_of_gallery(bot, interaction, job, deleter)
    post_deleted = await _delete_post(bot, job)
    await bot.publisher.cross_poster.withdraw(job.guild_id)  # never raises
    if not (post_deleted or left_gallery):
        return text("delete.post_gone", locale, job_id=job_id)
    key = "delete.deleted_own" if deleter is Deleter.REQUESTER else "delete.deleted_moderator"
    return text(key, locale, job_id=job_id)


async def _job(interaction: discord.Interaction[VideoBot], job_id: int) -> JobView:
    job = await load_view(interaction.client.admission.database, job_id)
    if job is None:
        raise NoSuchJob(job_id)
    return job


async def _deleter(interaction: discord.Interaction[VideoBot], job: JobView) -> Deleter:
    """Who the clicker is to the clip: its requester, or a moderator of its server (the moderator rule of
    bot.members); NotYourJob for anyone else."""
    if job.user_id == interaction.user.id:
        return Deleter.REQUESTER
    if job.guild_id == interaction.guild_id and await is_moderator(interaction):
        return Deleter.MODERATOR
    raise NotYourJob(job.id)


async def _take_out_of_gallery(
    bot: VideoBot, interaction: discord.Interaction[VideoBot], job: JobView, deleter: Deleter
) -> bool:
    """The requester deletes the clip from the gallery, a moderator hides it; False if it was out already."""
    try:
        if deleter is Deleter.REQUESTER:
            await bot.gallery.delete(job.guild_id, job.id, job.user_id)
        else:
            await bot.gallery.hide(Moderator(job.guild_id, interaction.user.id), job.id)
    except (NotInGallery, AlreadyHidden):
        return False  # deleted or hidden already, or never delivered: the post is what is left to take down
    return True


async def _delete_post(bot: VideoBot, job: JobView) -> bool:
    """Delete the clip's post; False if it was gone already (deleted, or its channel is)."""
    if job.message_id is None:
        return False
    try:
        await bot.get_partial_messageable(job.channel_id).get_partial_message(job.message_id).delete()
    except discord.NotFound:
        return False
    return True


def confirm_view(job_id: int, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDeleteButton.labelled(job_id, locale))
    view.add_item(KeepButton.labelled(job_id, locale))
    return view


class ConfirmDeleteButton(JobButton, template=rf"delete-yes:{JOB_ID}"):
    action, label_key = "delete-yes", "delete.confirm_button"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        # Deleting edits the database and Discord: answer within the 3 s first, then edit the question.
        await interaction.response.defer()
        words = await delete_clip(interaction, self.job_id)
        await interaction.edit_original_response(content=words, view=None, allowed_mentions=NOBODY)


class KeepButton(JobButton, template=rf"delete-no:{JOB_ID}"):
    action, label_key = "delete-no", "delete.keep_button"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        words = text("delete.kept", str(interaction.locale), job_id=self.job_id)
        await interaction.response.edit_message(content=words, view=None, allowed_mentions=NOBODY)
