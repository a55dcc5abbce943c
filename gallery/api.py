"""The gallery's JSON API: `GET /g/<slug>/api/items`, the lists of the HTML pages as data.

Query parameters, each optional:
- `order`: `recent` (newest first, the default) or `top` (most-starred first, starred clips only); else 400.
- `q`: search words; every word must appear in the prompt (a word also matches the start of a longer one).
- `creator`: a creator's handle (from an item's `creator.handle`); one not in the gallery lists nothing.
- `limit`: items per page: 24 by default, never more than jobs.gallery.MAX_PAGE_SIZE (60) whatever is asked, and 0
  reads as 1; anything but a whole number (up to nine digits) is a 400.
- `cursor`: the previous page's `next_cursor`; one this gallery did not write is a 400.

The answer is `{"items": [...], "next_cursor": "..." | null}`, null on the last page. Each item holds its credit and
the paths of its page, video and poster, and says it is AI-generated. Errors are JSON too: `{"error": "..."}`.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gallery.items import ItemView
from gallery.lookup import PAGE_SIZE, SERVICE, BadQuery, gallery_of, page_of, search_words
from jobs.gallery import GalleryQuery, Order

ROUTE_NAME = "api:items"
"""Routes named api:* answer their errors in JSON (gallery.errors)."""
ORDERS: tuple[Order, ...] = ("recent", "top")
LIMIT = re.compile(r"[0-9]{1,9}")


async def items(request: web.Request) -> web.Response:
    gallery = await gallery_of(request)
    order = request.query.get("order", "recent")
    if order not in ORDERS:
        raise BadQuery("order must be recent or top.")
    limit = _limit(request)
    creator_id = None
    if handle := request.query.get("creator"):
        creator_id = await request.app[SERVICE].creator_of(gallery, handle)
        if creator_id is None:  # the same answer as a creator with nothing in the gallery
            return web.json_response({"items": [], "next_cursor": None})
    query = GalleryQuery(gallery.guild_id, order=order, creator_id=creator_id, words=search_words(request))
    page = await page_of(request, query, limit)
    listed = [item_json(ItemView.of(gallery, item)) for item in page.items]
    return web.json_response({"items": listed, "next_cursor": page.next_cursor})


def item_json(item: ItemView) -> dict[str, Any]:
    return {
        "job_id": item.job_id,
        "prompt": item.prompt,
        "creator": {"name": item.creator_name, "handle": item.creator_handle, "url": item.creator_url},
        "model": {
            "id": item.model_id,
            "authors": item.authors,
            "licence": item.licence,
            "licence_url": item.licence_url,
        },
        "seed": item.seed,
        "width": item.width,
        "height": item.height,
        "frames": item.frames,
        "fps": item.fps,
        "created_at": item.created_at.isoformat(),
        "stars": item.stars,
        "page_url": item.page_url,
        "video_url": item.video_url,
        "poster_url": item.poster_url,
        "ai_generated": True,
    }


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return PAGE_SIZE
    if LIMIT.fullmatch(raw) is None:
        raise BadQuery("limit must be a whole number.")
    return int(raw)  # the service keeps it between 1 and MAX_PAGE_SIZE
