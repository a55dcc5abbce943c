"""The community gallery: every delivered clip of a server, with its credit, unless its creator left or a moderator
hid it.

The web app (gallery/) and the bot's /gallery commands read it here; both get plain `GalleryItem`s. What is in the
gallery is decided in one place (db.repositories.gallery.in_gallery) and read on every request, so a hide, an
opt-out or a delete takes effect on the very next one. A server's web gallery is private until a moderator makes it
public; its address holds a random slug (`SLUG_BYTES`) that a moderator can rotate, which breaks every old link.
Moderators' changes write their audit row in the same transaction (jobs.moderation.write_audit).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from common.states import AuditAction
from db.database import Database
from db.models import GuildSettings, Job
from db.repositories.gallery import LARGEST_ID, After, GalleryRepository
from db.repositories.guild_settings import GuildSettingsRepository
from jobs.clock import Clock
from jobs.errors import AlreadyHidden, NotHidden, NotInGallery, NotYourJob
from jobs.media import MediaFiles
from jobs.moderation import AuditView, Moderator, write_audit
from model.contract import manifest_key

log = logging.getLogger(__name__)

Order = Literal["recent", "top"]
MAX_PAGE_SIZE = 60
"""The most items one page holds, whatever a query asks for."""
SLUG_BYTES = 16  # 128 random bits: a gallery's address cannot be guessed
HANDLE_CHARS = 16
MAX_SEARCH_TERMS = 8
MAX_TERM_CHARS = 40
PRIVATE, PUBLIC = "private", "public"


@dataclass(frozen=True, slots=True)
class Gallery:
    """A server's gallery settings."""

    guild_id: int
    slug: str
    public: bool
    channel_id: int | None
    """Where delivered clips are cross-posted too; None for nowhere."""
    handle_key: str = field(repr=False, compare=False)
    """The secret creator handles are derived with (creator_handle); rotated with the slug, never shown."""


@dataclass(frozen=True, slots=True)
class GalleryItem:
    """One clip in a gallery, with everything its credit needs."""

    job_id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    user_id: int
    creator_name: str
    prompt: str
    preset_id: str
    model_id: str
    authors: str
    licence: str
    licence_url: str
    seed: int
    width: int
    height: int
    frames: int
    fps: int
    video_key: str
    video_bytes: int
    poster_key: str | None
    created_at: datetime
    stars: int

    @classmethod
    def of(cls, job: Job) -> GalleryItem:
        assert job.video_key is not None and job.video_bytes is not None  # in_gallery requires the video
        return cls(
            job_id=job.id,
            guild_id=job.guild_id,
            channel_id=job.channel_id,
            message_id=job.message_id,
            user_id=job.user_id,
            creator_name=job.user_name,
            prompt=job.prompt,
            preset_id=job.preset_id,
            model_id=job.model_id,
            authors=job.authors,
            licence=job.licence,
            licence_url=job.licence_url,
            seed=job.seed,
            width=job.video_width or job.width,
            height=job.video_height or job.height,
            frames=job.video_frames or job.frames,
            fps=job.video_fps or job.fps,
            video_key=job.video_key,
            video_bytes=job.video_bytes,
            poster_key=job.poster_key,
            created_at=job.created_at,
            stars=job.star_count,
        )


@dataclass(frozen=True, slots=True)
class GalleryQuery:
    guild_id: int
    order: Order = "recent"
    creator_id: int | None = None
    words: str = ""
    """Search words, as typed: only their letters and digits count (search_terms)."""


@dataclass(frozen=True, slots=True)
class GalleryPage:
    items: tuple[GalleryItem, ...]
    next_cursor: str | None
    """Where the next page starts, None on the last page: opaque to whoever reads it."""


@dataclass(frozen=True, slots=True)
class Star:
    starred: bool
    """Whether the member stars the clip now (a second click takes the star back)."""
    stars: int


@dataclass(frozen=True, slots=True)
class CrossPost:
    job_id: int
    channel_id: int
    message_id: int


class BadCursor(ValueError):
    """A page cursor this service did not write."""


def search_terms(words: str) -> tuple[str, ...]:
    """The words to search for: runs of letters and digits, at most MAX_SEARCH_TERMS of them, each cut to
    MAX_TERM_CHARS. Punctuation and search syntax in what a member typed mean nothing. Their case is left as typed:
    the search ignores it (FTS5's tokenizer folds query and prompts alike, LIKE is ILIKE), and case-folding here
    would change words so that they match nothing ("Straße" becomes "strasse"; "İstanbul" two words)."""
    return tuple(term[:MAX_TERM_CHARS] for term in re.findall(r"\w+", words)[:MAX_SEARCH_TERMS])


def creator_handle(gallery: Gallery, user_id: int) -> str:
    """A creator's name in the gallery's addresses: stable until the slug is rotated, and keyed by a secret that is
    never shown, so nobody can work out whose it is from the member ids every server member sees."""
    digest = hmac.new(gallery.handle_key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return digest[:HANDLE_CHARS]


def _cursor(order: Order, job: Job) -> str:
    return f"{job.star_count}.{job.id}" if order == "top" else str(job.id)


def _after(order: Order, cursor: str) -> After:
    pattern = r"([0-9]{1,9})\.([0-9]{1,18})" if order == "top" else r"()([0-9]{1,18})"
    match = re.fullmatch(pattern, cursor)
    if match is None:
        raise BadCursor(cursor)
    return After(job_id=int(match[2]), stars=int(match[1] or 0))


class GalleryService:
    def __init__(self, *, database: Database, media: MediaFiles, clock: Clock) -> None:
        self.database = database
        self.media = media
        self.clock = clock

    # -- the galleries' settings ------------------------------------------------------

    async def settings(self, guild_id: int) -> Gallery:
        """The server's gallery settings; its slug is made on the first call. Read without the write lock once it
        exists: the lists read it for their links on every page."""
        async with self.database.snapshot() as session:
            row = await GuildSettingsRepository(session).get(guild_id)
            if row is not None and row.gallery_slug is not None and row.gallery_handle_key is not None:
                return _gallery(row)
        async with self.database.transaction() as session:
            return _gallery(await self._settings_row(session, guild_id))

    async def public_gallery(self, slug: str) -> Gallery | None:
        """The gallery at this slug, if there is one and it is public: a private gallery is not served at all."""
        async with self.database.snapshot() as session:
            row = await GalleryRepository(session).by_slug(slug)
            return _gallery(row) if row is not None and row.gallery_public else None

    async def set_public(self, moderator: Moderator, public: bool) -> AuditView:
        async with self.database.transaction() as session:
            row = await self._settings_row(session, moderator.guild_id)
            before = PUBLIC if row.gallery_public else PRIVATE
            row.gallery_public = public
            return await self._audit(session, moderator, AuditAction.GALLERY_PUBLIC, None, before, _word(public))

    async def rotate_link(self, moderator: Moderator) -> AuditView:
        """Give the gallery a new slug: every old link to it, its clips and its creators stops working."""
        async with self.database.transaction() as session:
            row = await self._settings_row(session, moderator.guild_id)
            _new_address(row)
            return await self._audit(session, moderator, AuditAction.GALLERY_LINK, None, None, None)

    async def set_channel(self, moderator: Moderator, channel_id: int | None) -> AuditView:
        async with self.database.transaction() as session:
            row = await self._settings_row(session, moderator.guild_id)
            before, row.gallery_channel_id = row.gallery_channel_id, channel_id
            return await self._audit(
                session, moderator, AuditAction.GALLERY_CHANNEL, None, _id(before), _id(channel_id)
            )

    async def _settings_row(self, session: AsyncSession, guild_id: int) -> GuildSettings:
        row = await GuildSettingsRepository(session).get_or_create(guild_id)
        if row.gallery_slug is None or row.gallery_handle_key is None:
            _new_address(row)
            await session.flush()
        return row

    async def _audit(
        self,
        session: AsyncSession,
        moderator: Moderator,
        action: AuditAction,
        target_id: int | None,
        before: str | None,
        after: str | None,
    ) -> AuditView:
        return await write_audit(session, moderator, action, target_id, before, after, at=self.clock.now())

    # -- reading ------------------------------------------------------------------------

    def version(self) -> int | None:
        """Changes whenever the database does (Database.data_version; None where that cannot be known): what this
        service answered stays true while it stays the same, so a reader may reuse it until then, and no longer."""
        return self.database.data_version()

    async def page(self, query: GalleryQuery, *, cursor: str | None = None, offset: int = 0, limit: int) -> GalleryPage:
        """A page of the gallery, after `cursor` (the web's pages) or skipping `offset` items (Discord's numbered
        pages), with at most MAX_PAGE_SIZE items; BadCursor for a cursor this service did not write. A search for
        words with no letter or digit in them (only punctuation, say) finds nothing, rather than everything."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        after = None if cursor is None else _after(query.order, cursor)
        terms = search_terms(query.words)
        if (query.words.strip() and not terms) or (query.creator_id or 0) > LARGEST_ID:
            return GalleryPage((), None)
        async with self.database.snapshot() as session:
            jobs = await GalleryRepository(session).page(
                query.guild_id,
                order=query.order,
                creator_id=query.creator_id,
                terms=terms,
                after=after,
                offset=max(0, offset),
                limit=limit + 1,  # one more tells whether there is a next page
            )
        shown = jobs[:limit]
        next_cursor = _cursor(query.order, shown[-1]) if len(jobs) > limit else None
        return GalleryPage(tuple(GalleryItem.of(job) for job in shown), next_cursor)

    async def public_item(self, slug: str, job_id: int) -> tuple[Gallery, GalleryItem] | None:
        """The public gallery at this slug and its clip, in one read: what every clip page and file request needs."""
        async with self.database.snapshot() as session:
            gallery = GalleryRepository(session)
            row = await gallery.by_slug(slug)
            if row is None or not row.gallery_public:
                return None
            job = await gallery.item(row.guild_id, job_id)
            return None if job is None else (_gallery(row), GalleryItem.of(job))

    async def item(self, guild_id: int, job_id: int) -> GalleryItem | None:
        """The clip, if it is in the server's gallery now."""
        async with self.database.snapshot() as session:
            job = await GalleryRepository(session).item(guild_id, job_id)
            return None if job is None else GalleryItem.of(job)

    async def creator_of(self, gallery: Gallery, handle: str) -> int | None:
        """The member whose creator_handle in this gallery is `handle`, if they made a delivered clip there."""
        async with self.database.snapshot() as session:
            creators = await GalleryRepository(session).creators(gallery.guild_id)
        return next((user_id for user_id in creators if creator_handle(gallery, user_id) == handle), None)

    # -- members ------------------------------------------------------------------------

    async def toggle_star(self, guild_id: int, job_id: int, user_id: int) -> Star:
        """Star the clip for the member, or take their star back; NotInGallery unless it is the server's delivered
        clip."""
        async with self.database.transaction() as session:
            gallery = GalleryRepository(session)
            job = await gallery.delivered(guild_id, job_id)
            if job is None:
                raise NotInGallery(job_id)
            starred = await gallery.add_star(job_id, user_id, self.clock.now())
            if not starred:
                await gallery.remove_star(job_id, user_id)
            await session.refresh(job, ["star_count"])
            return Star(starred=starred, stars=job.star_count)

    async def opt_out(self, guild_id: int, user_id: int) -> bool:
        """Take the member's past and future clips out of the server's gallery; False if they already were."""
        async with self.database.transaction() as session:
            return await GalleryRepository(session).opt_out(guild_id, user_id, self.clock.now())

    async def opt_in(self, guild_id: int, user_id: int) -> bool:
        """Put the member's clips back in the gallery; False if they had not left it."""
        async with self.database.transaction() as session:
            return await GalleryRepository(session).opt_in(guild_id, user_id)

    async def delete(self, guild_id: int, job_id: int, user_id: int) -> None:
        """The creator takes their clip out of the gallery for good and its files off the disk. NotInGallery for no
        such clip (or one deleted already), NotYourJob for someone else's. Credits stay spent; the Discord post is
        the creator's to delete."""
        async with self.database.transaction() as session:
            gallery = GalleryRepository(session)
            job = await gallery.delivered(guild_id, job_id)
            if job is None:
                raise NotInGallery(job_id)
            if job.user_id != user_id:
                raise NotYourJob(job_id)
            await gallery.mark_deleted(job_id, self.clock.now())
            keys = [key for key in (job.video_key, job.poster_key, manifest_key(job_id)) if key is not None]
        # After the commit: from now on nothing serves them, so removing them races with nothing.
        for key in keys:
            try:
                self.media.path(key).unlink(missing_ok=True)
            except (OSError, ValueError) as error:
                log.warning("job %s was deleted from the gallery but its file %s stays (%s)", job_id, key, error)
        log.info("job %s deleted from the gallery by its creator", job_id)

    # -- moderators ---------------------------------------------------------------------

    async def hide(self, moderator: Moderator, job_id: int) -> AuditView:
        return await self._set_hidden(moderator, job_id, hidden=True)

    async def unhide(self, moderator: Moderator, job_id: int) -> AuditView:
        return await self._set_hidden(moderator, job_id, hidden=False)

    async def _set_hidden(self, moderator: Moderator, job_id: int, *, hidden: bool) -> AuditView:
        async with self.database.transaction() as session:
            gallery = GalleryRepository(session)
            if await gallery.delivered(moderator.guild_id, job_id) is None:
                raise NotInGallery(job_id)
            if not await gallery.set_hidden(job_id, self.clock.now() if hidden else None):
                raise AlreadyHidden(job_id) if hidden else NotHidden(job_id)
            action = AuditAction.GALLERY_HIDE if hidden else AuditAction.GALLERY_UNHIDE
            return await self._audit(session, moderator, action, job_id, None, None)

    # -- the gallery channel ----------------------------------------------------------

    async def cross_post_channel(self, job_id: int) -> int | None:
        """The channel to cross-post a delivered clip in: its server's gallery channel, if one is set, the clip is
        in the gallery and it was not cross-posted yet."""
        async with self.database.snapshot() as session:
            job = await session.get(Job, job_id)
            if job is None or job.gallery_message_id is not None:
                return None
            if await GalleryRepository(session).item(job.guild_id, job_id) is None:
                return None
            row = await GuildSettingsRepository(session).get(job.guild_id)
            return None if row is None else row.gallery_channel_id

    async def record_cross_post(self, job_id: int, channel_id: int, message_id: int) -> None:
        async with self.database.transaction() as session:
            await GalleryRepository(session).record_cross_post(job_id, channel_id, message_id)

    async def cross_posts_to_withdraw(self, guild_id: int) -> tuple[CrossPost, ...]:
        """The gallery channel's copies of the server's clips that left the gallery (hidden, deleted, their creator
        opted out): the bot deletes them, then forgets them (forget_cross_post). A clip posted in the gallery channel
        itself is not among them: that post is its creator's."""
        async with self.database.snapshot() as session:
            jobs = await GalleryRepository(session).cross_posts_left_behind(guild_id)
        posts = []
        for job in jobs:
            assert job.gallery_post_channel_id is not None and job.gallery_message_id is not None  # as selected
            posts.append(CrossPost(job.id, job.gallery_post_channel_id, job.gallery_message_id))
        return tuple(posts)

    async def forget_cross_post(self, post: CrossPost) -> None:
        """The cross-post is deleted (or was already): a clip back in the gallery later is not cross-posted again."""
        async with self.database.transaction() as session:
            await GalleryRepository(session).forget_cross_post(post.job_id, post.message_id)


def _new_address(row: GuildSettings) -> None:
    """A new slug, and a new key for the creators' handles: no old address, nor any handle in one, works again."""
    row.gallery_slug = secrets.token_urlsafe(SLUG_BYTES)
    row.gallery_handle_key = secrets.token_urlsafe(SLUG_BYTES)


def _gallery(row: GuildSettings) -> Gallery:
    assert row.gallery_slug is not None and row.gallery_handle_key is not None
    return Gallery(row.guild_id, row.gallery_slug, row.gallery_public, row.gallery_channel_id, row.gallery_handle_key)


def _word(public: bool) -> str:
    return PUBLIC if public else PRIVATE


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)
