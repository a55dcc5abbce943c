"""The row of buttons under every posted clip: Star, Reroll, Details, Delete.

post_view builds the whole row, for the post, its gallery-channel copy and every Star click's edit, so a click on one
button never takes the others away. The labels are in the post's language (its requester's); every answer is in the
clicker's. Each button is a DynamicItem whose custom_id is `<action>:<job_id>`, so it works on any post, also one made
before a restart: no state lives in the bot, and who clicks is checked on every click. Each answers within Discord's
3 seconds (a defer first where the database or Discord is asked), and whatever breaks is answered by bot.errors.

What each does: bot.starring (Star), bot.rerolling (Reroll), bot.clip_details (Details), bot.deleting (Delete).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.clip_details import show_details
from bot.deleting import ask_to_delete
from bot.errors import answer_error
from bot.messages import text
from bot.rerolling import reroll
from bot.starring import StarButton

if TYPE_CHECKING:
    from bot.client import VideoBot


def post_view(job_id: int, stars: int, locale: str) -> discord.ui.View:
    """The buttons of a clip's post: Star with its count, Reroll, Details and Delete, labelled in `locale`."""
    view = discord.ui.View(timeout=None)
    view.add_item(StarButton(job_id, stars, locale))
    for button in (RerollButton, DetailsButton, DeleteButton):
        view.add_item(button(job_id, text(button.label_key, locale)))
    return view


class ClipButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"(?!)"):
    """One of the post's buttons but Star: subclasses name their action (`action`, and the same in their template),
    their label, their style and what a click does (`act`)."""

    action: ClassVar[str]
    label_key: ClassVar[str]
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(self, job_id: int, label: str) -> None:
        button = discord.ui.Button[discord.ui.View](label=label, style=self.style, custom_id=f"{self.action}:{job_id}")
        super().__init__(button)
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["job_id"]), label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; these are only ever added to VideoBot's messages.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        try:
            await self.act(interaction)
        except Exception as error:
            await answer_error(interaction, error, unexpected="clip.error")

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        raise NotImplementedError


class RerollButton(ClipButton, template=r"reroll:(?P<job_id>[0-9]{1,18})"):
    action, label_key = "reroll", "clip.reroll"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await reroll(interaction, self.job_id)


class DetailsButton(ClipButton, template=r"details:(?P<job_id>[0-9]{1,18})"):
    action, label_key = "details", "clip.details"

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await show_details(interaction, self.job_id)


class DeleteButton(ClipButton, template=r"delete:(?P<job_id>[0-9]{1,18})"):
    action, label_key = "delete", "clip.delete"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        await ask_to_delete(interaction, self.job_id)
