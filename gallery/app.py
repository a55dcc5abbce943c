"""The web gallery's application: its routes, its templates and its middlewares.

Routes match only what the gallery's addresses (common.gallery_paths, gallery.links) can hold: a slug of URL-safe
characters, a creator handle of hex digits and a job number of 1 to 18 ASCII digits. Anything else, a `..`, an
encoded slash, a backslash, is no route and answers 404; files come only from the keys in the database. There is
one static file, the style sheet, and no directory listing anywhere.

The middlewares, outermost first: every response gets the security headers (gallery.headers), every error becomes
a page (gallery.errors), only GET and HEAD reach a handler, and pages the database has not changed under since they
were made are answered again from memory (gallery.cache).
"""

from __future__ import annotations

import jinja2
from aiohttp import web

from gallery import api, files, pages
from gallery.cache import CACHE, AnswerCache, reuse_answers
from gallery.errors import error_pages
from gallery.headers import read_only, security_headers
from gallery.links import STYLE_SHEET_PATH
from gallery.lookup import MEDIA, SERVICE
from gallery.rendering import TEMPLATES
from jobs.gallery import GalleryService
from jobs.media import MediaFiles

SLUG = "{slug:[A-Za-z0-9_-]{1,64}}"  # jobs.gallery makes them with secrets.token_urlsafe
HANDLE = "{handle:[0-9a-f]{1,64}}"  # jobs.gallery.creator_handle: hex digits
JOB = "{job_id:[0-9]{1,18}}"  # ASCII digits only (\d would take other scripts' digits), within a 64-bit integer
GALLERY = f"/g/{SLUG}"


def create_app(service: GalleryService, media: MediaFiles) -> web.Application:
    app = web.Application(middlewares=[security_headers, error_pages, read_only, reuse_answers])
    app[CACHE] = AnswerCache()
    app[SERVICE] = service
    app[MEDIA] = media
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("gallery"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,  # no blank lines where a block tag stood
        lstrip_blocks=True,
    )
    environment.globals["style_sheet"] = STYLE_SHEET_PATH
    app[TEMPLATES] = environment
    app.router.add_get("/", pages.home)
    app.router.add_get(STYLE_SHEET_PATH, files.style_sheet)
    app.router.add_get(GALLERY, pages.recent, name="page:recent")
    app.router.add_get(f"{GALLERY}/top", pages.top, name="page:top")
    app.router.add_get(f"{GALLERY}/search", pages.search, name="page:search")
    app.router.add_get(f"{GALLERY}/creator/{HANDLE}", pages.creator, name="page:creator")
    app.router.add_get(f"{GALLERY}/item/{JOB}", pages.item, name="page:item")
    app.router.add_get(f"{GALLERY}/media/{JOB}.mp4", files.video)
    app.router.add_get(f"{GALLERY}/media/{JOB}.jpg", files.poster)
    app.router.add_get(f"{GALLERY}/api/items", api.items, name=api.ROUTE_NAME)
    return app
