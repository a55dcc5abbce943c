"""The web gallery's addresses, shared by the web app that serves them and the bot that links to them.

Every address of a server's gallery starts with its slug, which is unguessable and which a moderator can rotate;
the rest names a job by its number or a creator by a handle derived from the slug (jobs.gallery.creator_handle),
never by a Discord id, a path or a database id.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

MediaKind = Literal["mp4", "jpg"]


def gallery_path(slug: str) -> str:
    return f"/g/{quote(slug)}"


def item_path(slug: str, job_id: int) -> str:
    return f"{gallery_path(slug)}/item/{job_id}"


def creator_path(slug: str, handle: str) -> str:
    return f"{gallery_path(slug)}/creator/{quote(handle)}"


def media_path(slug: str, job_id: int, kind: MediaKind) -> str:
    return f"{gallery_path(slug)}/media/{job_id}.{kind}"


def absolute(public_url: str, path: str) -> str:
    """public_url (GALLERY_PUBLIC_URL, with or without a trailing slash) joined with one of the paths above."""
    return public_url.rstrip("/") + path


def host_and_port(host: str, port: int) -> str:
    """`host:port` as a URL writes it: an IPv6 address in brackets, whether or not it came with them."""
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"
