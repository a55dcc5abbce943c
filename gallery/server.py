"""The web gallery as a server the bot (or `python -m gallery`) starts and stops: an aiohttp runner on one address.

A port that cannot be bound stops the start with GalleryPortUnavailable, one line that says what to change. Requests
are logged at DEBUG only (a reverse proxy in front keeps the access log), so the bot's own lines stay readable.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import BaseRequest

from common.gallery_paths import host_and_port
from gallery.app import create_app
from jobs.gallery import GalleryService
from jobs.media import MediaFiles

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 5.0
"""How long a clean stop lets downloads under way finish."""


class GalleryPortUnavailable(Exception):
    """The web gallery cannot listen where GALLERY_HOST and GALLERY_PORT say."""

    def __init__(self, host: str, port: int, reason: str = "") -> None:
        super().__init__(host, port, reason)
        self.host = host
        self.port = port
        self.reason = reason

    def __str__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        where = host_and_port(self.host, self.port)
        return (
            f"the web gallery cannot listen on {where}{why}: please set GALLERY_HOST to an "
            "address of this machine and GALLERY_PORT to a free port, or GALLERY_PORT to 0 to turn the web gallery off"
        )


class GalleryServer:
    def __init__(self, service: GalleryService, media: MediaFiles, host: str, port: int) -> None:
        self.host = host
        self.port = port
        """After start, the port it listens on (the one the system chose, when asked for port 0)."""
        self._app = create_app(service, media)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{host_and_port(self.host, self.port)}"

    async def start(self) -> None:
        runner = web.AppRunner(
            self._app,
            access_log_class=DebugAccessLogger,
            access_log=logging.getLogger("gallery.access"),
            logger=HTTP_LOG,
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as error:  # in use, not allowed, or no such address on this machine
            await runner.cleanup()
            raise GalleryPortUnavailable(self.host, self.port, error.strerror or str(error)) from error
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("web gallery listening on %s", self.url)

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class MalformedRequests(logging.Filter):
    """aiohttp logs a request its parser cannot read (a client's doing, never the operator's) as an ERROR with a
    traceback, so anyone could flood the log with them: they are left out. The client gets aiohttp's 400."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


HTTP_LOG = logging.getLogger("gallery.http")
HTTP_LOG.addFilter(MalformedRequests())


class DebugAccessLogger(AbstractAccessLogger):
    """One DEBUG line a request, and no work at all below DEBUG."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.debug("%s %s %s %.3fs", request.method, request.path, response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)
