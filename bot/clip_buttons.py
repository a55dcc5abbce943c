"""The row of buttons under every posted clip: Star, Reroll, Details, Delete.

post_view builds the whole row, for the post, its gallery-channel copy and every Star click's edit, so a click on one
button never takes the others away. The labels are in the post's language (its requester's); every answer is in the
clicker's. Each button is a DynamicItem whose custom_id is `<action>:<job_id>` (bot.job_buttons; the Star's adds the
post's language), so it works on any post, also one made before a restart: no state lives in the bot, and who
clicks is checked on every click. Each answers within Discord's
3 seconds (a defer first where the database or Discord is asked), and whatever breaks is answered by bot.errors.

What each does: bot.starring (Star), bot.rerolling (Reroll), bot.clip_details (Details), bot.deleting (Delete).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.clip_details import show_details
from bot.deleting import ask_to_delete
from bot.errors import answer_error
from bot.job_buttons import JOB_ID, JobButton
from bot.mentions import as_now
from bot.messages import DEFAULT_LANGUAGE, language_of
from bot.rerolling import reroll
from bot.starring import star, star_label, tell_starred

if TYPE_CHECKING:
    from bot.client import VideoBot


def post_view(job_id: int, stars: int, locale: str) -> discord.ui.View:
    """The buttons of a clip's post: Star with its count, Reroll, Details and Delete, labelled in `locale`."""
    view = discord.ui.View(timeout=None)
    view.add_item(StarButton(job_id, stars, locale))
    for button in (RerollButton, DetailsButton, DeleteButton):
        view.add_item(button.labelled(job_id, locale))
    return view


class StarButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    # the job; then the post's language, but for English (and posts made before languages came)
    template=rf"star:{JOB_ID}(?::(?P<language>[a-z]{{2,3}}))?",
):
    def __init__(self, job_id: int, stars: int, locale: str) -> None:
        language = language_of(locale)
        custom_id = f"star:{job_id}" if language == DEFAULT_LANGUAGE else f"star:{job_id}:{language}"
        label = star_label(stars, language)
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id))
        self.job_id = job_id
        self.language = language

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        # The click writes the label again from the count.
        return cls(int(match["job_id"]), 0, match["language"] or DEFAULT_LANGUAGE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; this one is only ever added to VideoBot's messages.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        try:
            starred = await star(interaction, self.job_id)
            if starred is None:
                return
            await interaction.response.edit_message(
                view=post_view(self.job_id, starred.stars, self.language), allowed_mentions=as_now(interaction.message)
            )
            await tell_starred(interaction, self.job_id, starred)
        except Exception as error:
            await answer_error(interaction, error, unexpected="gallery.error")


class RerollButton(JobButton, template=rf"reroll:{JOB_ID}"):
    action, label_key = "reroll", "clip.reroll"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await reroll(interaction, self.job_id)


class DetailsButton(JobButton, template=rf"details:{JOB_ID}"):
    action, label_key = "details", "clip.details"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await show_details(interaction, self.job_id)


class DeleteButton(JobButton, template=rf"delete:{JOB_ID}"):
    action, label_key = "delete", "clip.delete"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await ask_to_delete(interaction, self.job_id)
