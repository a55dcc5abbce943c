"""/queue show pages. The Previous and Next buttons are DynamicItems whose custom_id carries the server and the page
number, so they keep working after a restart: no view state lives in the bot. Every click reads the queue again, so
a page shows the queue as it is then (a page past its end shows the last one).

Every line names its member by display name, escaped, and every message pings no one. Buttons have no app_commands
checks: a click is checked in its callback with the moderator commands' predicate, and its failures are answered by
bot.errors like a command's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.checks import NotModerator, require_moderator
from bot.errors import answer_error
from bot.formatting import safe_user_text
from bot.mentions import NOBODY
from bot.messages import plural, text
from jobs.queue_control import QueueEntry, QueuePage

if TYPE_CHECKING:
    from bot.client import VideoBot

NAME_CHARS = 40  # of a member's display name, escaped
PRESET_CHARS = 32  # ten lines, the title and the paused note stay well within Discord's 2000 characters


def queue_message(page: QueuePage, locale: str) -> str:
    lines = []
    if page.total:
        lines.append(
            text(
                "queue.title",
                locale,
                total=page.total,
                total_s=plural(page.total),
                page=page.page + 1,
                pages=page.pages,
            )
        )
    else:
        lines.append(text("queue.empty", locale))
    if page.paused:
        lines.append(text("queue.paused_note", locale))
    lines.extend(_line(entry, locale) for entry in page.entries)
    return "\n".join(lines)


def _line(entry: QueueEntry, locale: str) -> str:
    return text(
        "queue.line",
        locale,
        job_id=entry.job_id,
        position=entry.position,
        member=safe_user_text(entry.user_name, NAME_CHARS),
        preset=entry.preset_id.replace("`", "'")[:PRESET_CHARS],
        state=text(f"state.{entry.state.value}", locale),
        age=discord.utils.format_dt(entry.created_at, "R"),
    )


def queue_view(guild_id: int, page: QueuePage, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if page.page > 0:
        view.add_item(QueuePageButton(guild_id, page.page - 1, text("queue.previous", locale)))
    if page.page + 1 < page.pages:
        view.add_item(QueuePageButton(guild_id, page.page + 1, text("queue.next", locale)))
    return view


class QueuePageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"queue:(?P<guild_id>[0-9]+):(?P<page>[0-9]+)",
):
    def __init__(self, guild_id: int, page: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=f"queue:{guild_id}:{page}")
        )
        self.guild_id = guild_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> QueuePageButton:
        # discord.py builds the item from the clicked component, which for this template is a button.
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["guild_id"]), int(match["page"]), label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; this one is only ever added to VideoBot's views.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        try:
            await self._turn_page(interaction)
        except Exception as error:
            await answer_error(interaction, error, unexpected="mod.error")

    async def _turn_page(self, interaction: discord.Interaction[VideoBot]) -> None:
        # The page is of the server in the custom_id: only a moderator clicking there may read it.
        if interaction.guild_id != self.guild_id:
            raise NotModerator("the button pages another server's queue")
        await require_moderator(interaction)
        locale = str(interaction.locale)
        page = await interaction.client.queue_control.page(self.guild_id, self.page)
        await interaction.response.edit_message(
            content=queue_message(page, locale), view=queue_view(self.guild_id, page, locale), allowed_mentions=NOBODY
        )
