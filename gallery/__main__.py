"""`python -m gallery`: the web gallery on its own, against the bot's database and DATA_DIR (with GALLERY_PORT=0 for
the bot, and the same settings here). The gallery's composition root: the only gallery module that opens the
database. Exit status 2 means a setting needs fixing (GALLERY_PORT=0 here included, or a port already in use);
SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Iterable

from db.database import Database
from gallery.server import GalleryPortUnavailable, GalleryServer
from jobs.clock import SystemClock
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from settings.environment import SettingsError
from settings.web import WebSettings, load_web_settings

log = logging.getLogger("gallery")

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[redacted]"


def main() -> int:
    try:
        settings = load_web_settings()
    except SettingsError as error:
        return _refuse(str(error))
    if settings.gallery.port == 0:
        return _refuse("GALLERY_PORT is 0, which turns the web gallery off; set it to the port to serve it on")
    _configure_logging(settings.log.level, settings.secrets)
    try:
        asyncio.run(serve(settings))
    except GalleryPortUnavailable as error:
        return _refuse(str(error))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed (while migrating, say)
        log.info("stopped")
    return 0


async def serve(settings: WebSettings) -> None:
    database = Database(settings.database.url)
    try:
        await database.migrate()
        media = MediaFiles(settings.media.data_dir)
        service = GalleryService(database=database, media=media, clock=SystemClock())
        server = GalleryServer(service, media, settings.gallery.host, settings.gallery.port)
        await server.start()
        try:
            await _until_stopped()
        finally:
            await server.close()
        log.info("web gallery stopped")
    finally:
        await database.dispose()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        await stop.wait()
    finally:
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(stop_signal)


def _refuse(reason: str) -> int:
    print(f"promptreel gallery: {reason}", file=sys.stderr)
    return 2


class _RedactingFormatter(logging.Formatter):
    """A password in DATABASE_URL never reaches a log line, a traceback's included."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(LOG_FORMAT)
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


def _configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("aiosqlite").setLevel(level if level == "DEBUG" else logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
