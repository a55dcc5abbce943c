"""The buttons on every posted clip (bot.clip_buttons) and on the Delete button's confirmation (bot.deleting),
registered as DynamicItems: they work on any message that carries them, also one posted before a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clip_buttons import DeleteButton, DetailsButton, RerollButton, StarButton
from bot.deleting import ConfirmDeleteButton, KeepButton

if TYPE_CHECKING:
    from bot.client import VideoBot


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(StarButton, RerollButton, DetailsButton, DeleteButton, ConfirmDeleteButton, KeepButton)
