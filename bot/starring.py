"""The Star button under every posted video: one star per member and clip, a second click takes it back, and
/gallery top counts them.

The button is a DynamicItem whose custom_id is `star:<job_id>` (`star:<job_id>:<language>` on a post in another
language than English), so it keeps working after a restart. Its label shows the clip's stars as the last click on
that message left them (jobs.gallery counts them), in the post's language. A click edits the message's
components only, writing the post's whole row again (bot.clip_buttons.post_view, so the other buttons stay): its
video, its credit embed and whom it mentions stay as they are; the member hears what the click did in an ephemeral
followup that pings no one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.errors import answer_error
from bot.mentions import NOBODY, as_now
from bot.messages import DEFAULT_LANGUAGE, language_of, text
from bot.refusals import refusal_text
from jobs.errors import NotInGallery, RequestRefused

if TYPE_CHECKING:
    from bot.client import VideoBot


def star_label(stars: int, language: str) -> str:
    """In the post's language, whoever clicked last: the label is part of the post."""
    return text("star.label", language, stars=stars) if stars else text("star.label_none", language)


class StarButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    # any job number, within SQLite's integers; then the post's language, but for English (and posts made before)
    template=r"star:(?P<job_id>[0-9]{1,18})(?::(?P<language>[a-z]{2,3}))?",
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
            # The post's whole row again, with the new count: the other buttons stay. (bot.clip_buttons builds the
            # row with this button in it, so it is imported here, once both modules are.)
            from bot.clip_buttons import post_view

            await interaction.response.edit_message(
                view=post_view(self.job_id, star.stars, self.language), allowed_mentions=as_now(interaction.message)
            )
            words = (
                text("star.starred", locale, job_id=self.job_id, stars=star.stars)
                if star.starred
                else text("star.unstarred", locale, job_id=self.job_id)
            )
            await interaction.followup.send(words, ephemeral=True, allowed_mentions=NOBODY)
        except Exception as error:
            await answer_error(interaction, error, unexpected="gallery.error")
