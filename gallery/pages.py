"""The gallery's HTML pages: the recent and most-starred grids, search, a creator's clips, and a clip's own page.

Each handler reads the gallery and its items from the service on every request (gallery.lookup); no page runs or
links a script. A creator with nothing in the gallery now has no page, like a creator who never existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from common.gallery_paths import creator_path, gallery_path
from gallery.items import ItemView
from gallery.links import Nav, Section, search_path, top_path, with_query
from gallery.lookup import SERVICE, gallery_of, item_of, page_of, search_words
from gallery.rendering import render
from jobs.gallery import Gallery, GalleryPage, GalleryQuery, search_terms

SEARCH_HINT = "Type words from a prompt in the search box: every word must appear, and a word also finds longer ones."


@dataclass(frozen=True, slots=True)
class Listing:
    """One grid page's own words and address."""

    here: str
    """The list's address, which its Next link repeats with the cursor."""
    section: Section
    heading: str
    empty: str
    """What the page says when it has no clips."""
    words: str = ""


async def home(request: web.Request) -> web.Response:
    """No list of galleries: each server's address is its own to share."""
    return render(request, "home.html", nav=None)


async def recent(request: web.Request) -> web.Response:
    gallery = await gallery_of(request)
    page = await page_of(request, GalleryQuery(gallery.guild_id))
    listing = Listing(
        gallery_path(gallery.slug), "recent", "Recent clips", "No clips yet: clips made with /video appear here."
    )
    return _grid(request, gallery, page, listing)


async def top(request: web.Request) -> web.Response:
    gallery = await gallery_of(request)
    page = await page_of(request, GalleryQuery(gallery.guild_id, order="top"))
    listing = Listing(
        top_path(gallery.slug), "top", "Most starred", "No starred clips yet: star a clip under its post in Discord."
    )
    return _grid(request, gallery, page, listing)


async def search(request: web.Request) -> web.Response:
    gallery = await gallery_of(request)
    words = search_words(request)
    here = search_path(gallery.slug)
    if not search_terms(words):  # nothing to look for (the service would list every clip)
        return _grid(request, gallery, GalleryPage((), None), Listing(here, "search", "Search", SEARCH_HINT, words))
    page = await page_of(request, GalleryQuery(gallery.guild_id, words=words))
    heading = f"Clips matching “{words.strip()}”"
    empty = "No clip's prompt has all of those words. Try fewer words."
    return _grid(request, gallery, page, Listing(here, "search", heading, empty, words))


async def creator(request: web.Request) -> web.Response:
    gallery = await gallery_of(request)
    handle = request.match_info["handle"]
    user_id = await request.app[SERVICE].creator_of(gallery, handle)
    if user_id is None:
        raise web.HTTPNotFound()
    page = await page_of(request, GalleryQuery(gallery.guild_id, creator_id=user_id))
    if not page.items:  # opted out, or every clip hidden or deleted
        raise web.HTTPNotFound()
    heading = f"Clips by {page.items[0].creator_name}"
    return _grid(request, gallery, page, Listing(creator_path(gallery.slug, handle), "creator", heading, ""))


async def item(request: web.Request) -> web.Response:
    gallery, found = await item_of(request)
    view = ItemView.of(gallery, found)
    return render(request, "item.html", nav=Nav.of(gallery, "item"), item=view)


def _grid(request: web.Request, gallery: Gallery, page: GalleryPage, listing: Listing) -> web.Response:
    next_url = None
    if page.next_cursor is not None:
        next_url = with_query(listing.here, q=listing.words, cursor=page.next_cursor)
    return render(
        request,
        "grid.html",
        nav=Nav.of(gallery, listing.section, listing.words),
        heading=listing.heading,
        items=[ItemView.of(gallery, item) for item in page.items],
        empty=listing.empty,
        next_url=next_url,
        next_label="Next" if listing.section == "top" else "Older clips",
        # On a later page, a way back to the first.
        first_url=with_query(listing.here, q=listing.words) if "cursor" in request.query else None,
    )
