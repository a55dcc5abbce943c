"""What a visitor sees of a gallery item, on a card, on its page and in the API: its credit and its addresses.

Every address comes from common.gallery_paths and names the clip by its job number and its creator by a handle
derived from the slug, never by a Discord id, a file key or a path. The one Discord id a visitor may see is in the
link to the clip's post, which has to name its server and channel. A licence link is kept only if it is http(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from common.gallery_paths import creator_path, item_path, media_path
from jobs.gallery import Gallery, GalleryItem, creator_handle

DISCORD_MESSAGE_URL = "https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


@dataclass(frozen=True, slots=True)
class ItemView:
    job_id: int
    prompt: str
    creator_name: str
    creator_handle: str
    creator_url: str
    model_id: str
    authors: str
    licence: str
    licence_url: str | None
    """The licence's address, None unless it is an http(s) URL (nothing else becomes a link)."""
    seed: int
    width: int
    height: int
    frames: int
    fps: int
    created_at: datetime
    stars: int
    page_url: str
    video_url: str
    poster_url: str | None
    discord_url: str | None
    """The clip's post in Discord, None until it was posted."""

    @classmethod
    def of(cls, gallery: Gallery, item: GalleryItem) -> ItemView:
        handle = creator_handle(gallery, item.user_id)
        discord_url = None
        if item.message_id is not None:
            discord_url = DISCORD_MESSAGE_URL.format(
                guild_id=item.guild_id, channel_id=item.channel_id, message_id=item.message_id
            )
        return cls(
            job_id=item.job_id,
            prompt=item.prompt,
            creator_name=item.creator_name,
            creator_handle=handle,
            creator_url=creator_path(gallery.slug, handle),
            model_id=item.model_id,
            authors=item.authors,
            licence=item.licence,
            licence_url=web_url(item.licence_url),
            seed=item.seed,
            width=item.width,
            height=item.height,
            frames=item.frames,
            fps=item.fps,
            created_at=item.created_at,
            stars=item.stars,
            page_url=item_path(gallery.slug, item.job_id),
            video_url=media_path(gallery.slug, item.job_id, "mp4"),
            poster_url=None if item.poster_key is None else media_path(gallery.slug, item.job_id, "jpg"),
            discord_url=discord_url,
        )

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    @property
    def created_label(self) -> str:
        """The date for people: 2 Dec 2026, 13:05 UTC."""
        return f"{self.created_at.day} {self.created_at:%b %Y, %H:%M} UTC"


def web_url(url: str) -> str | None:
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
