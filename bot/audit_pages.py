"""/mod audit pages. The buttons are DynamicItems whose custom_id carries the server and the page
cursor, so they keep working after a restart: no view state lives in the bot.

Buttons have no app_commands checks: a click is checked in its callback, with the moderator commands' predicate,
and its failures are answered by bot.errors like a command's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.checks import NotModerator, require_moderator
from bot.errors import answer_error
from bot.mentions import NOBODY
from bot.messages import text
from bot.moderating import describe
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


class AuditPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"audit:(?P<guild_id>[0-9]+):(?P<cursor>[0-9]+)",
):
    def __init__(self, guild_id: int, cursor: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=f"audit:{guild_id}:{cursor}")
        )
        self.guild_id = guild_id
        self.cursor = cursor

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AuditPageButton:
        # discord.py builds the item from the clicked component, which for this template is a button.
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["guild_id"]), int(match["cursor"]), label or "")

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
            raise NotModerator("the button pages another server's audit log")
        await require_moderator(interaction)
        locale = str(interaction.locale)
        content, page = audit_message(
            await interaction.client.moderation.audit_page(self.guild_id, self.cursor or None), locale
        )
        await interaction.response.edit_message(
            content=content,
            view=audit_view(self.guild_id, page, first=self.cursor == NEWEST, locale=locale),
            allowed_mentions=NOBODY,
        )
