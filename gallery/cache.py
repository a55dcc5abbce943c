"""Pages and JSON answered again from memory while the database has not changed since they were made.

A page is reused only while `GalleryService.version()` is what it was when the page was read from the database, and
that version changes with every commit anyone makes (a hide, an opt-out, a delete, a star, a new clip, another
process's write), so nothing is ever answered from here after the change that makes it untrue: the next request
reads the database again. Only whole 200 answers of pages and the API are kept (never files, whose checks are
aiohttp's Range and ETag handling), at most MAX_ENTRIES of them, the least recently used going first, so varying a
query string cannot grow the memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from gallery.lookup import SERVICE

MAX_ENTRIES = 512
CACHEABLE_ROUTES = frozenset({"page:recent", "page:top", "page:search", "page:creator", "page:item", "api:items"})
"""Route names (gallery.app) whose answers depend on nothing but the database and their address."""


@dataclass(frozen=True, slots=True)
class _Answer:
    version: int
    status: int
    body: bytes
    content_type: str
    charset: str | None


class AnswerCache:
    def __init__(self) -> None:
        self._answers: OrderedDict[str, _Answer] = OrderedDict()

    def get(self, address: str, version: int) -> _Answer | None:
        answer = self._answers.get(address)
        if answer is None or answer.version != version:
            return None
        self._answers.move_to_end(address)
        return answer

    def put(self, address: str, answer: _Answer) -> None:
        self._answers[address] = answer
        self._answers.move_to_end(address)
        while len(self._answers) > MAX_ENTRIES:
            self._answers.popitem(last=False)


CACHE = web.AppKey("answer_cache", AnswerCache)


@web.middleware
async def reuse_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The innermost middleware: answers a cacheable GET or HEAD from memory while the database is unchanged."""
    if request.match_info.route.name not in CACHEABLE_ROUTES:
        return await handler(request)
    version = request.app[SERVICE].version()  # before reading: a change made meanwhile makes this answer stale
    if version is None:
        return await handler(request)
    cache, address = request.app[CACHE], request.path_qs
    answer = cache.get(address, version)
    if answer is None:
        response = await handler(request)
        if response.status != 200 or not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return response
        answer = _Answer(version, response.status, response.body, response.content_type, response.charset)
        cache.put(address, answer)
    return web.Response(
        body=answer.body,
        status=answer.status,
        content_type=answer.content_type,
        charset=answer.charset,
        headers={"Cache-Control": "no-cache"},
    )
