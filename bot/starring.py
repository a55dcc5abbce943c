"""The Star button under every posted video: one star per member and clip, a second click takes it back, and
/gallery top counts them.

The button is a DynamicItem whose custom_id is `star:<job_id>`, so it keeps working after a restart. Its label shows
the clip's stars as the last click on that message left them (jobs.gallery counts them). A click edits the message's
components only, so its video, its credit embed and whom it mentions stay as they are; the member hears what the
click did in an ephemeral followup that pings no one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.errors import answer_error
from bot.mentions import NOBODY, as_now
from bot.messages import text
from bot.refusals import refusal_text
from jobs.errors import NotInGallery, RequestRefused

if TYPE_CHECKING:
    from bot.client import VideoBot


def star_view(job_id: int, stars: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(StarButton(job_id, stars))
    return view


def star_label(stars: int) -> str:
    """In the catalogue's default language: the post is everyone's, whoever clicked last."""
    return text("star.label", stars=stars) if stars else text("star.label_none")


class StarButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"star:(?P<job_id>[0-9]{1,18})",  # any job number, within SQLite's integers,
):
    def __init__(self, job_id: int, stars: int) -> None:
        super().__init__(
            discord.ui.Button(label=star_label(stars), style=discord.ButtonStyle.secondary, custom_id=f"star:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["job_id"]), 0)  # the click writes the label again from the count

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; this one is only ever added to VideoBot's messages.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        locale = str(interaction.locale)
        try:
            try:
                if interaction.guild_id is None:
                    raise NotInGallery(self.job_id)
                star = await interaction.client.gallery.toggle_star(
                    interaction.guild_id, self.job_id, interaction.user.id
                )
            except RequestRefused as refusal:
                await interaction.response.send_message(
                    refusal_text(refusal, locale), ephemeral=True, allowed_mentions=NOBODY
                )
                return
            await interaction.response.edit_message(
                view=star_view(self.job_id, star.stars), allowed_mentions=as_now(interaction.message)
            )
            words = (
                text("star.starred", locale, job_id=self.job_id, stars=star.stars)
                if star.starred
                else text("star.unstarred", locale, job_id=self.job_id)
            )
            await interaction.followup.send(words, ephemeral=True, allowed_mentions=NOBODY)
        except Exception as error:
            await answer_error(interaction, error, unexpected="gallery.error")
