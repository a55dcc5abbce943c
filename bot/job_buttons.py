"""A button about one job: a DynamicItem whose custom_id is `<action>:<job_id>`, so it works on any message that
carries it, also one sent before a restart. Nothing about the click lives in the bot: who clicks is checked by what
the click does (`act`), and whatever breaks is answered ephemerally by bot.errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.errors import answer_error
from bot.messages import text

if TYPE_CHECKING:
    from bot.client import VideoBot

JOB_ID = r"(?P<job_id>[0-9]{1,18})"
"""Any job number within SQLite's integers; a template ends with it."""


class JobButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"(?!)"):
    """Subclasses name their action (`action`, and the same in their template: `rf"{action}:{JOB_ID}"`), their
    label's catalogue key, their style and what a click does (`act`)."""

    action: ClassVar[str]
    label_key: ClassVar[str]
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary
    unexpected: ClassVar[str] = "clip.error"
    """The catalogue key said when a click breaks unexpectedly."""

    def __init__(self, job_id: int, label: str) -> None:
        button = discord.ui.Button[discord.ui.View](label=label, style=self.style, custom_id=f"{self.action}:{job_id}")
        super().__init__(button)
        self.job_id = job_id

    @classmethod
    def labelled(cls, job_id: int, locale: str) -> Self:
        return cls(job_id, text(cls.label_key, locale))

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
            await answer_error(interaction, error, unexpected=self.unexpected)

    async def act(self, interaction: discord.Interaction[VideoBot]) -> None:
        raise NotImplementedError
