"""What every REST request goes through before and after its route handler, as at Discord's front door.

The body is read (multipart included), an injected fault answers instead of the handler if one matches,
the bot token is required except on routes authenticated by the token in their path, errors become
Discord's error bodies, rate-limit headers are added, a held answer waits for its release, and the request is
recorded with its answer.
"""

from __future__ import annotations

import re
import time
from http import HTTPStatus

from aiohttp import hdrs, web

from tests.fake_discord.holds import hold_if_asked
from tests.fake_discord.models import RecordedRequest
from tests.fake_discord.rest import API_PREFIX, BODY, DiscordError, Handler, fault_response, read_body, response_json
from tests.fake_discord.state import FakeState

# Paths authenticated by the token inside them rather than by the Authorization header.
_TOKEN_IN_PATH = re.compile(r"/(?:interactions|webhooks)/\d+/[^/]+(?:/.*)?|/gateway")
_MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id", "interaction_token")


class RestMiddleware:
    """The aiohttp middleware (`handle`) and the catch-all route (`unknown_route`) of the fake's REST API."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @web.middleware
    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Reads, checks and records every REST request, and adds Discord's headers to the answer."""
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        record = RecordedRequest(request.method, path, dict(request.query), json=None, files=[], at=time.monotonic())
        try:
            body = await read_body(request)
            record.json, record.files = body.json, body.files
            request[BODY] = body
            response = self._injected_fault(request.method, path) or await self._authorized(request, path, handler)
        except DiscordError as error:
            response = error.response()
        if response.status != HTTPStatus.TOO_MANY_REQUESTS:
            response.headers.update(self._rate_limit_headers(request))
        response.headers["Via"] = "1.1 google"  # discord.py retries a 429 only if it came through Discord's proxy
        record.status, record.response = response.status, response_json(response)
        await hold_if_asked(self._state.holds, record)
        await self._state.record(record)
        return response

    async def unknown_route(self, request: web.Request) -> web.Response:
        raise DiscordError(HTTPStatus.NOT_FOUND, "404: Not Found", 0)

    async def _authorized(self, request: web.Request, path: str, handler: Handler) -> web.StreamResponse:
        if not _TOKEN_IN_PATH.fullmatch(path) and request.headers.get(hdrs.AUTHORIZATION) != f"Bot {self._state.token}":
            raise DiscordError(HTTPStatus.UNAUTHORIZED, "401: Unauthorized", 0)
        return await handler(request)

    def _injected_fault(self, method: str, path: str) -> web.Response | None:
        for fault in self._state.faults:
            if not fault.exhausted and fault.method == method and re.search(fault.path_pattern, path):
                fault.served += 1
                return fault_response(fault)
        return None

    def _rate_limit_headers(self, request: web.Request) -> dict[str, str]:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        major = "+".join(request.match_info[name] for name in _MAJOR_PARAMETERS if name in request.match_info)
        return self._state.rate_limits.headers(request.method, template, major)
