"""Every error the gallery answers is a short page of its own (JSON on the API's routes), never a traceback.

A 404 is the same page whatever was not found, an unknown address, a private gallery, an old slug or a hidden clip,
so no answer hints that something exists. An unexpected exception is logged with its traceback and answers a plain
500 page.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler

from gallery.lookup import BadQuery
from gallery.rendering import render

log = logging.getLogger(__name__)

JSON_ROUTES = "api:"
"""Routes whose names start with this answer their errors in JSON."""
PAGES = {  # status: (title, what the page says)
    400: ("Bad request", "This address asks for something the gallery cannot read."),
    404: ("Not found", "There is nothing here. The link may be old, or the clip is no longer in the gallery."),
    405: ("Method not allowed", "The gallery only shows pages: it answers GET and HEAD requests."),
    500: ("Something went wrong", "The gallery could not show this page. Please try again in a moment."),
}


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = _error(request, error.status, error.detail if isinstance(error, BadQuery) else None)
        if "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        log.exception("the web gallery failed to answer %s %s", request.method, request.path)
        return _error(request, 500, None)


def _error(request: web.Request, status: int, detail: str | None) -> web.Response:
    title, message = PAGES.get(status) or (HTTPStatus(status).phrase, HTTPStatus(status).description)
    message = detail or message
    name = request.match_info.route.name
    if name is not None and name.startswith(JSON_ROUTES):
        return web.json_response({"error": message}, status=status)
    try:
        return render(request, "error.html", status=status, nav=None, title=title, status_code=status, message=message)
    except Exception:  # a broken template must not hide the error it was to show
        log.exception("the web gallery could not render its %s page", status)
        return web.Response(text=f"{status} {title}\n", status=status, content_type="text/plain")
