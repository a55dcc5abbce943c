"""/mod audit pages, turned by bot.page_buttons' buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.messages import text
from bot.moderating import describe
from bot.page_buttons import PAGE_TEMPLATE, ModeratorPageButton
from jobs.moderation import AuditPage, AuditView

if TYPE_CHECKING:
    from bot.client import VideoBot

NEWEST = 0  # the cursor of the first page
MESSAGE_LIMIT = 2000  # characters in a Discord message


def audit_message(page: AuditPage, locale: str) -> tuple[str, AuditPage]:
    """The page in words, within Discord's message limit, and the page as shown.

    Entries that do not fit are left to the next page: the page shown ends at the last entry that fit.
    """
    if not page.entries:
        return text("audit.empty", locale), page
    title = text("audit.title", locale)
    lines = [title]
    shown: list[AuditView] = []
    length = len(title)
    for entry in page.entries:
        line = _line(entry, locale, MESSAGE_LIMIT - len(title) - 1)
        if shown and length + 1 + len(line) > MESSAGE_LIMIT:
            break
        lines.append(line)
        shown.append(entry)
        length += 1 + len(line)
    content = "\n".join(lines)
    if len(shown) == len(page.entries):
        return content, page
    return content, AuditPage(tuple(shown), shown[-1].id)


def _line(entry: AuditView, locale: str, limit: int) -> str:
    line = text(
        "audit.line",
        locale,
        when=discord.utils.format_dt(entry.created_at, "f"),
        actor=f"<@{entry.actor_id}>",
        change=describe(entry, locale),
    )
    # describe() caps each value, so this only guards a limit a translation could break.
    return line if len(line) <= limit else line[: limit - 1] + "…"


def audit_view(guild_id: int, page: AuditPage, *, first: bool, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if not first:
        view.add_item(AuditPageButton(guild_id, NEWEST, text("audit.newest", locale)))
    if page.older_than is not None:
        view.add_item(AuditPageButton(guild_id, page.older_than, text("audit.older", locale)))
    return view


class AuditPageButton(ModeratorPageButton, template=PAGE_TEMPLATE.format(prefix="audit")):
    """Its page number is a cursor: the id of the newest entry not shown yet (NEWEST for the first page)."""

    prefix = "audit"

    async def render(self, interaction: discord.Interaction[VideoBot], locale: str) -> tuple[str, discord.ui.View]:
        content, page = audit_message(
            await interaction.client.moderation.audit_page(self.guild_id, self.page or None), locale
        )
        return content, audit_view(self.guild_id, page, first=self.page == NEWEST, locale=locale)
