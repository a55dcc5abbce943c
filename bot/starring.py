"""The Star button under every posted video: one star per member and clip, a second click takes it back, and
/gallery top counts them.

The button (bot.clip_buttons.StarButton) shows the clip's stars as the last click on that message left them
(jobs.gallery counts them), in the post's language. A click edits the message's components only, writing the post's
whole row again, so the other buttons stay: its video, its credit embed and whom it mentions stay as they are; the
member hears what the click did in an ephemeral followup that pings no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.mentions import NOBODY
from bot.messages import text
from bot.refusals import refusal_text
from jobs.errors import NotInGallery, RequestRefused
from jobs.gallery import Star

if TYPE_CHECKING:
    import discord

    from bot.client import VideoBot


def star_label(stars: int, language: str) -> str:
    """In the post's language, whoever clicked last: the label is part of the post."""
    return text("star.label", language, stars=stars) if stars else text("star.label_none", language)


async def star(interaction: discord.Interaction[VideoBot], job_id: int) -> Star | None:
    """Star the clip for the clicker, or take their star back; None when refused (and the clicker told why)."""
    try:
        if interaction.guild_id is None:
            raise NotInGallery(job_id)
        return await interaction.client.gallery.toggle_star(interaction.guild_id, job_id, interaction.user.id)
    except RequestRefused as refusal:
        words = refusal_text(refusal, str(interaction.locale))
        await interaction.response.send_message(words, ephemeral=True, allowed_mentions=NOBODY)
        return None


async def tell_starred(interaction: discord.Interaction[VideoBot], job_id: int, star: Star) -> None:
    """What the click did, to the clicker alone, once the post shows it."""
    locale = str(interaction.locale)
    words = (
        text("star.starred", locale, job_id=job_id, stars=star.stars)
        if star.starred
        else text("star.unstarred", locale, job_id=job_id)
    )
    await interaction.followup.send(words, ephemeral=True, allowed_mentions=NOBODY)
