"""A real web gallery for the tests: a migrated SQLite database with delivered clips and their real media, the
gallery service over it, and a GalleryServer listening on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from db.database import Database
from gallery.server import GalleryServer
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.moderation import Moderator
from tests.gallery.seeding import GUILD_ID, MODERATOR_ID, OTHER_GUILD_ID, Clip, Seeder, make_clips
from tests.migrated import TemplateDatabase

ANA, BEN, CHLOE = 223_344_556_677_889_900, 334_455_667_788_990_011, 445_566_778_899_001_122
STARGAZERS = (556_677_889_900_112_233, 667_788_990_011_223_344, 778_899_001_122_334_455)
XSS_PROMPT = "<script>alert(1)</script> a cat knocking a glass off a table"
SAMPLES = {  # name: (prompt, creator id, creator name, stars), oldest first
    "fox": ("a red fox running through fresh snow at dusk", ANA, "Ana", 3),
    "harbour": ("city lights over a rainy harbour at night", BEN, "Ben", 1),
    "xss": (XSS_PROMPT, BEN, "Ben", 0),
    "boat": ("a paper boat drifting down a mossy stream", ANA, "Ana", 2),
    "beach": ("slow waves rolling onto a black sand beach, golden hour", CHLOE, "Chloé", 0),
    "balloon": ("a hot air balloon rising over misty hills at sunrise", ANA, "Ana", 1),
}


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Site:
    """The gallery as a visitor reaches it, and the service behind it, as the bot's commands change it."""

    database: Database
    data_dir: Path
    service: GalleryService
    seeder: Seeder
    server: GalleryServer
    http: aiohttp.ClientSession
    jobs: dict[str, int] = field(default_factory=dict)
    """The seeded clips' job ids, by SAMPLES' names ("other" is another server's clip)."""

    @property
    def moderator(self) -> Moderator:
        return Moderator(GUILD_ID, MODERATOR_ID)

    async def slug(self) -> str:
        return (await self.service.settings(GUILD_ID)).slug

    async def fetch(self, path: str, method: str = "GET", headers: Mapping[str, str] | None = None) -> Fetched:
        """path as the client sends it (a path that dots or slashes could change goes through raw_get)."""
        async with self.http.request(method, self.server.url + path, headers=headers, allow_redirects=False) as reply:
            return Fetched(reply.status, reply.headers, await reply.read())

    async def raw_get(self, target: str) -> Fetched:
        """A GET of exactly this request target, byte for byte: no client normalises its dots or escapes."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines:
            name, _, value = line.partition(": ")
            headers.add(name, value)
        return Fetched(int(status_line.split()[1]), CIMultiDictProxy(headers), body)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Clip, ...]:
    return make_clips(tmp_path_factory.mktemp("clips"))


@asynccontextmanager
async def open_site(folder: Path, clips: tuple[Clip, ...], template: TemplateDatabase) -> AsyncIterator[Site]:
    """A public gallery with SAMPLES (and one clip of another server), served on 127.0.0.1."""
    data_dir = folder / "data"
    database = await template.copy_to(folder / "bot.db")
    media = MediaFiles(data_dir)
    service = GalleryService(database=database, media=media, clock=FixedClock())
    seeder = Seeder(database, data_dir, clips)
    jobs = {}
    for name, (prompt, user_id, user_name, stars) in SAMPLES.items():
        jobs[name] = job_id = await seeder.delivered(prompt, user_id=user_id, user_name=user_name)
        for stargazer in STARGAZERS[:stars]:
            await service.toggle_star(GUILD_ID, job_id, stargazer)
    jobs["other"] = await seeder.delivered(
        "a fox in another server", user_id=ANA, user_name="Ana", guild_id=OTHER_GUILD_ID
    )
    for guild_id in (GUILD_ID, OTHER_GUILD_ID):
        await service.set_public(Moderator(guild_id, MODERATOR_ID), True)
    server = GalleryServer(service, media, "127.0.0.1", 0)
    await server.start()
    http = aiohttp.ClientSession()
    try:
        yield Site(database, data_dir, service, seeder, server, http, jobs)
    finally:
        await http.close()
        await server.close()
        await database.dispose()


@pytest.fixture
async def site(tmp_path: Path, clips: tuple[Clip, ...], template_database: TemplateDatabase) -> AsyncIterator[Site]:
    async with open_site(tmp_path, clips, template_database) as opened:
        yield opened
