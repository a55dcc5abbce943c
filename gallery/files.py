"""The gallery's files: a clip's video and poster, and the one style sheet.

A clip's file is the one its database row names (`video_key`, `poster_key`), read from the service on every request
and opened through MediaFiles.path, which refuses keys that leave DATA_DIR: the address carries only the job number,
never a key or a path. aiohttp's FileResponse answers Range requests (206), HEAD, Last-Modified and ETag revalidation
(304); `Cache-Control: no-cache` makes browsers revalidate every time, so a clip hidden a moment ago is not shown
from a cache, and the ETag keeps that cheap. No directory is ever listed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from gallery.lookup import MEDIA, item_of

log = logging.getLogger(__name__)

STYLE_SHEET_FILE = Path(__file__).with_name("static") / "gallery.css"


async def video(request: web.Request) -> web.FileResponse:
    _, item = await item_of(request)
    return _file(request, item.video_key, "video/mp4")


async def poster(request: web.Request) -> web.FileResponse:
    _, item = await item_of(request)
    if item.poster_key is None:
        raise web.HTTPNotFound()
    return _file(request, item.poster_key, "image/jpeg")


async def style_sheet(request: web.Request) -> web.FileResponse:
    return _response(STYLE_SHEET_FILE, "text/css; charset=utf-8")


def _file(request: web.Request, key: str, content_type: str) -> web.FileResponse:
    try:
        path = request.app[MEDIA].path(key)
    except ValueError:  # a key that leaves DATA_DIR: a bug or a tampered row, never served
        log.warning("not serving the media key %r: it points outside DATA_DIR", key)
        raise web.HTTPNotFound() from None
    if not path.is_file():  # deleted meanwhile, or never written: the gallery's own 404 page
        raise web.HTTPNotFound()
    return _response(path, content_type)


def _response(path: Path, content_type: str) -> web.FileResponse:
    return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "no-cache"})
