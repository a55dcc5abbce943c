"""Previous/Next buttons for the moderators' paged lists (/mod audit, /queue show).

Each is a DynamicItem whose custom_id is `<list>:<server>:<page>`, so it keeps working after a restart: no view
state lives in the bot, and every click reads its list again. Buttons have no app_commands checks: a click is
checked in its callback with the moderator commands' predicate, only in the server the custom_id names, and its
failures are answered by bot.errors like a command's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.checks import NotModerator, require_moderator
from bot.errors import answer_error
from bot.mentions import NOBODY

if TYPE_CHECKING:
    from bot.client import VideoBot

PAGE_TEMPLATE = r"{prefix}:(?P<guild_id>[0-9]+):(?P<page>[0-9]+)"


class ModeratorPageButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"(?!)"):
    """A page of one server's list; subclasses name their list (`prefix`, and the same in their template) and
    render a page (`render`)."""

    prefix: ClassVar[str]

    def __init__(self, guild_id: int, page: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"{self.prefix}:{guild_id}:{page}"
            )
        )
        self.guild_id = guild_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        # discord.py builds the item from the clicked component, which for these templates is a button.
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["guild_id"]), int(match["page"]), label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; these are only ever added to VideoBot's views.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        try:
            if interaction.guild_id != self.guild_id:
                raise NotModerator(f"the button pages another server's {self.prefix}")
            await require_moderator(interaction)
            content, view = await self.render(interaction, str(interaction.locale))
            await interaction.response.edit_message(content=content, view=view, allowed_mentions=NOBODY)
        except Exception as error:
            await answer_error(interaction, error, unexpected="mod.error")

    async def render(self, interaction: discord.Interaction[VideoBot], locale: str) -> tuple[str, discord.ui.View]:
        raise NotImplementedError
