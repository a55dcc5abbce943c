"""The web gallery's security policy, on every response it sends: pages, files, JSON, errors and 404s alike.

The pages run no script and load nothing from elsewhere, so the Content-Security-Policy allows only this origin's
images, videos and style sheet, and no page may be framed. A gallery's address is its secret (an unguessable slug),
so no request carries it to another site as a Referer. Only GET and HEAD are answered: nothing here changes state.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from aiohttp import web
from aiohttp.typedefs import Handler

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Server": "promptreel",  # aiohttp would name itself and its version
}
READ_METHODS = ("GET", "HEAD")
ALLOW = ", ".join(READ_METHODS)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware: whatever answers, a response or a raised HTTP exception, carries the headers."""
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        _secure(exception.headers)
        raise
    _secure(response.headers)
    return response


@web.middleware
async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """405 for any method but GET and HEAD, on every address (one that does not exist too)."""
    if request.method not in READ_METHODS:
        refused = web.HTTPMethodNotAllowed(request.method, READ_METHODS)
        refused.headers["Allow"] = ALLOW
        raise refused
    return await handler(request)


def _secure(headers: MutableMapping[str, str]) -> None:
    headers.update(SECURITY_HEADERS)
    # Browsers must ask again every time, so a clip hidden or deleted a moment ago is never shown from a cache.
    headers.setdefault("Cache-Control", "no-cache")
