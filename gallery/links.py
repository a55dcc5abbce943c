"""The gallery's addresses that only the web app links to (the most-starred list, search, the API) and the links in
every page's header. The rest are common.gallery_paths', shared with the bot; all of them start with the slug."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from common.gallery_paths import gallery_path
from jobs.gallery import Gallery

Section = Literal["recent", "top", "search", "creator", "item"]
STYLE_SHEET_PATH = "/static/gallery.css"


def top_path(slug: str) -> str:
    return f"{gallery_path(slug)}/top"


def search_path(slug: str) -> str:
    return f"{gallery_path(slug)}/search"


def api_path(slug: str) -> str:
    return f"{gallery_path(slug)}/api/items"


def with_query(path: str, **params: str | None) -> str:
    """path with the params that are set, in their order, as its query string."""
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{path}?{query}" if query else path


@dataclass(frozen=True, slots=True)
class Nav:
    """The header of a gallery's pages: its lists, its search form, and which section the page is in."""

    recent_url: str
    top_url: str
    search_url: str
    section: Section
    words: str
    """What the search box shows: the words searched for, on the search page."""

    @classmethod
    def of(cls, gallery: Gallery, section: Section, words: str = "") -> Nav:
        return cls(gallery_path(gallery.slug), top_path(gallery.slug), search_path(gallery.slug), section, words)
