"""HTTP plumbing shared by the fake's REST handlers: bodies in, Discord-shaped answers out."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

from tests.fake_discord.models import InjectedFault, UploadedFile

API_PREFIX = "/api/v10"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# What each routes_* module lists: (method, path template without API_PREFIX, handler).
Route = tuple[str, str, Handler]


class DiscordError(Exception):
    """An error answer in Discord's shape: {"message": ..., "code": ...}."""

    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(f"{status} {message} ({code})")
        self.status = status
        self.message = message
        self.code = code

    def response(self) -> web.Response:
        return json_response({"message": self.message, "code": self.code}, status=self.status)


def json_response(payload: Any, *, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py treats "application/json; charset=utf-8" as text.
    return web.Response(status=status, body=json.dumps(payload).encode(), content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=HTTPStatus.NO_CONTENT)


def response_json(response: web.StreamResponse) -> Any:
    """The JSON a response carries, or None."""
    if isinstance(response, web.Response) and response.content_type == "application/json" and response.body:
        assert isinstance(response.body, bytes)  # json_response always builds bytes
        return json.loads(response.body)
    return None


@dataclass
class IncomingBody:
    json: Any  # the JSON body, or a multipart body's payload_json
    files: list[UploadedFile]


BODY = web.RequestKey("body", IncomingBody)


def body_of(request: web.Request) -> IncomingBody:
    """The body the REST middleware read before the handler ran."""
    return request[BODY]


def query_flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


async def read_body(request: web.Request) -> IncomingBody:
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    raw = await request.read()
    return IncomingBody(json=_parse_json(raw) if raw else None, files=[])


def _parse_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(HTTPStatus.BAD_REQUEST, "The request body contains invalid JSON.", 50109) from None


async def _read_multipart(request: web.Request) -> IncomingBody:
    payload: Any = None
    files: list[UploadedFile] = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            raise DiscordError(HTTPStatus.BAD_REQUEST, "Nested multipart bodies are not accepted", 50035)
        if part.name == "payload_json":
            payload = _parse_json(await part.text())
        else:
            files.append(
                UploadedFile(
                    field=part.name or "",
                    filename=part.filename or "",
                    content_type=part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream"),
                    data=await part.read(),
                )
            )
    return IncomingBody(json=payload, files=files)


@dataclass
class _Window:
    started: float
    used: int = 0


class RateLimiter:
    """Honest per-route, per-major-parameter bucket counts in X-RateLimit-* headers, so discord.py's
    own limiter paces itself as it would against Discord. The fake never answers 429 by itself."""

    def __init__(self, *, limit: int = 50, window_seconds: float = 1.0) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._windows: dict[str, _Window] = {}

    def headers(self, method: str, route_template: str, major_parameters: str) -> dict[str, str]:
        bucket = hashlib.blake2b(f"{method} {route_template}".encode(), digest_size=16).hexdigest()
        key = f"{bucket}:{major_parameters}"
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now - window.started >= self.window_seconds:
            window = self._windows[key] = _Window(started=now)
        window.used += 1
        reset_after = self.window_seconds - (now - window.started)
        return {
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - window.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }


def fault_response(fault: InjectedFault) -> web.Response:
    if fault.status != HTTPStatus.TOO_MANY_REQUESTS:
        generic = {"message": f"{fault.status}: {HTTPStatus(fault.status).phrase}", "code": 0}
        return json_response(fault.body or generic, status=fault.status)
    body = fault.body or {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": False}
    response = json_response(body, status=fault.status)
    response.headers.update(
        {
            "Retry-After": str(max(1, round(fault.retry_after))),
            "X-RateLimit-Scope": "user",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
        }
    )
    return response
