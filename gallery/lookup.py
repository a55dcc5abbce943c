"""What a handler reads from its request: the public gallery its slug names, the item its job number names, and its
page cursor.

Every call asks the service again and nothing is kept between requests, so a gallery made private, a rotated slug,
a hidden, deleted or opted-out clip answers 404 on the very next request. Whatever is not found, or not public,
raises the same HTTPNotFound: no answer tells a private gallery from one that never existed.
"""

from __future__ import annotations

from aiohttp import web

from jobs.gallery import BadCursor, Gallery, GalleryItem, GalleryPage, GalleryQuery, GalleryService
from jobs.media import MediaFiles

SERVICE = web.AppKey("service", GalleryService)
MEDIA = web.AppKey("media", MediaFiles)
PAGE_SIZE = 24
"""Items on one page unless the API asks for another number (the service caps it at MAX_PAGE_SIZE)."""
MAX_QUERY_CHARS = 200
"""Search words beyond these are cut: the service reads only a few words anyway (jobs.gallery.search_terms)."""


async def gallery_of(request: web.Request) -> Gallery:
    gallery = await request.app[SERVICE].public_gallery(request.match_info["slug"])
    if gallery is None:
        raise web.HTTPNotFound()
    return gallery


async def item_of(request: web.Request) -> tuple[Gallery, GalleryItem]:
    """The public gallery and the item the route's job number names, if it is in the gallery now, read together.
    The route admits 1 to 18 digits only, so the number always fits the database's integers."""
    found = await request.app[SERVICE].public_item(request.match_info["slug"], int(request.match_info["job_id"]))
    if found is None:
        raise web.HTTPNotFound()
    return found


async def page_of(request: web.Request, query: GalleryQuery, limit: int = PAGE_SIZE) -> GalleryPage:
    """The page after the request's `cursor`; 400 for a cursor this gallery did not write."""
    cursor = request.query.get("cursor") or None
    try:
        return await request.app[SERVICE].page(query, cursor=cursor, limit=limit)
    except BadCursor:
        raise BadQuery("The cursor is not one this gallery wrote.") from None


def search_words(request: web.Request) -> str:
    return request.query.get("q", "")[:MAX_QUERY_CHARS]


class BadQuery(web.HTTPBadRequest):
    """A 400 whose detail (one short sentence of ours, never the request's own text) the error page shows."""

    def __init__(self, detail: str) -> None:
        super().__init__(text=detail)
        self.detail = detail
