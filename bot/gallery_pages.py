"""/gallery recent, top and member: numbered pages of the server's gallery, turned by Previous/Next buttons that any
member of that server may click.

A button's custom_id is `gallery:<order>:<server>:<creator or 0>:<page>`: it carries the whole list, so it keeps
working after a restart, and every click reads the gallery again (jobs.gallery), so a clip hidden, deleted or taken
out since leaves the page. Each entry credits its creator by mention, which pings no one (every message here sends
NOBODY), links to its Discord post and, only while the server's gallery is public and the bot has a web gallery, to
its web page. A page fits one message whatever the links: the prompts are cut to the room left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.checks import OtherServer
from bot.errors import answer_error
from bot.formatting import safe_user_text
from bot.mentions import NOBODY
from bot.messages import text
from common.gallery_paths import absolute, item_path
from jobs.gallery import GalleryItem, GalleryQuery, Order

if TYPE_CHECKING:
    from bot.client import VideoBot

PAGE_SIZE = 5
MESSAGE_LIMIT = 2000  # characters in a Discord message
PROMPT_CHARS = 100  # of each prompt, escaped, when the links leave room for it
MIN_PROMPT_CHARS = 24  # below this, a page drops its web links rather than its prompts
WebLink = Callable[[int], str]  # a job number to its web page's address

# Snowflakes fit 64 bits, and SQLite's integers are signed: 18 digits always do, 19 mostly (bot.gallery_pages checks).
TEMPLATE = r"gallery:(?P<order>recent|top):(?P<guild_id>[0-9]{1,19}):(?P<creator_id>[0-9]{1,19}):(?P<page>[0-9]{1,6})"


@dataclass(frozen=True, slots=True)
class GalleryList:
    """One page of one of a server's lists: by order, of one creator's clips or everyone's."""

    order: Order
    guild_id: int
    creator_id: int | None = None
    page: int = 0

    @property
    def custom_id(self) -> str:
        return f"gallery:{self.order}:{self.guild_id}:{self.creator_id or 0}:{self.page}"

    @property
    def query(self) -> GalleryQuery:
        return GalleryQuery(self.guild_id, self.order, self.creator_id)

    def turned(self, page: int) -> GalleryList:
        return GalleryList(self.order, self.guild_id, self.creator_id, page)


async def gallery_page(client: VideoBot, shown: GalleryList, locale: str) -> tuple[str, discord.ui.View]:
    """The page as it is now, in words, with its buttons."""
    page = await client.gallery.page(shown.query, offset=shown.page * PAGE_SIZE, limit=PAGE_SIZE)
    web: WebLink | None = None
    if client.gallery_links is not None and page.items:
        gallery = await client.gallery.settings(shown.guild_id)
        web = _web_links(client.gallery_links, gallery.slug) if gallery.public else None
    content = gallery_message(shown, page.items, web, locale)
    return content, gallery_view(shown, has_next=page.next_cursor is not None, locale=locale)


def gallery_message(shown: GalleryList, items: Sequence[GalleryItem], web: WebLink | None, locale: str) -> str:
    """`web` gives a clip's web page; None for no web links."""
    if not items:
        return _empty(shown, locale)
    title = _title(shown, locale)
    room = _prompt_room(title, items, web, locale)
    if room < MIN_PROMPT_CHARS:
        web = None  # a web address so long that a page of them would crowd out the prompts
        room = _prompt_room(title, items, web, locale)
    prompt_chars = max(1, min(PROMPT_CHARS, room))
    lines = [_line(item, web, safe_user_text(item.prompt, prompt_chars), locale) for item in items]
    return "\n".join([title, *lines])


def _prompt_room(title: str, items: Sequence[GalleryItem], web: WebLink | None, locale: str) -> int:
    """How many characters each prompt may take for the page to fit one message."""
    fixed = len(title) + sum(len(_line(item, web, "", locale)) + 1 for item in items)
    return (MESSAGE_LIMIT - fixed) // len(items)


def _web_links(link_base: str, slug: str) -> WebLink:
    return lambda job_id: absolute(link_base, item_path(slug, job_id))


def _title(shown: GalleryList, locale: str) -> str:
    if shown.creator_id is not None:
        return text("gallery.member_title", locale, member=f"<@{shown.creator_id}>", page=shown.page + 1)
    return text(f"gallery.{shown.order}_title", locale, page=shown.page + 1)


def _empty(shown: GalleryList, locale: str) -> str:
    if shown.page > 0:
        return text("gallery.past_end", locale)
    if shown.creator_id is not None:
        return text("gallery.member_empty", locale, member=f"<@{shown.creator_id}>")
    return text(f"gallery.{shown.order}_empty", locale)


def _line(item: GalleryItem, web: WebLink | None, prompt: str, locale: str) -> str:
    links = []
    if item.message_id is not None:
        post = f"https://discord.com/channels/{item.guild_id}/{item.channel_id}/{item.message_id}"
        links.append(text("gallery.post_link", locale, url=post))
    if web is not None:
        links.append(text("gallery.web_link", locale, url=web(item.job_id)))
    return text(
        "gallery.line",
        locale,
        job_id=item.job_id,
        stars=item.stars,
        creator=f"<@{item.user_id}>",
        links="".join(f" · {link}" for link in links),
        prompt=prompt,
    )


def gallery_view(shown: GalleryList, *, has_next: bool, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if shown.page > 0:
        view.add_item(GalleryPageButton(shown.turned(shown.page - 1), text("gallery.previous", locale)))
    if has_next:
        view.add_item(GalleryPageButton(shown.turned(shown.page + 1), text("gallery.next", locale)))
    return view


class GalleryPageButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=TEMPLATE):
    def __init__(self, shown: GalleryList, label: str) -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=shown.custom_id))
        self.shown = shown

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        # discord.py builds the item from the clicked component, which for this template is a button.
        label = item.label if isinstance(item, discord.ui.Button) else None
        order: Order = "top" if match["order"] == "top" else "recent"
        shown = GalleryList(order, int(match["guild_id"]), int(match["creator_id"]) or None, int(match["page"]))
        return cls(shown, label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are typed for any client; these are only ever added to VideoBot's views.
        interaction = cast("discord.Interaction[VideoBot]", interaction)
        try:
            if interaction.guild_id != self.shown.guild_id:
                raise OtherServer("the button pages another server's gallery")
            content, view = await gallery_page(interaction.client, self.shown, str(interaction.locale))
            await interaction.response.edit_message(content=content, view=view, allowed_mentions=NOBODY)
        except Exception as error:
            await answer_error(interaction, error, unexpected="gallery.error")
