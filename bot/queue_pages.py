"""/queue show pages, turned by bot.page_buttons' buttons: every click reads the queue again, so a page shows the
queue as it is then (a page past its end shows the last one). Every line names its member by display name, escaped,
and every message pings no one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.formatting import safe_user_text
from bot.messages import text
from bot.page_buttons import PAGE_TEMPLATE, ModeratorPageButton
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


class QueuePageButton(ModeratorPageButton, template=PAGE_TEMPLATE.format(prefix="queue")):
    prefix = "queue"

    async def render(self, interaction: discord.Interaction[VideoBot], locale: str) -> tuple[str, discord.ui.View]:
        page = await interaction.client.queue_control.page(self.guild_id, self.page)
        return queue_message(page, locale), queue_view(self.guild_id, page, locale)
