"""The web gallery over HTTP, against a real server, a real SQLite database and real media files: who may see what,
what a hide, an opt-out or a delete changes at once, the files' HTTP semantics, and the security policy."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from common.gallery_paths import creator_path, gallery_path, item_path, media_path
from gallery.headers import CONTENT_SECURITY_POLICY
from gallery.links import api_path, search_path, top_path
from gallery.server import GalleryPortUnavailable, GalleryServer
from jobs.gallery import MAX_PAGE_SIZE, Gallery, creator_handle
from jobs.media import MediaFiles
from tests.gallery.conftest import (
    ANA,
    BEN,
    CHLOE,
    SAMPLES,
    STARGAZERS,
    XSS_PROMPT,
    Fetched,
    Site,
)
from tests.gallery.seeding import CHANNEL_ID, GUILD_ID, MODERATOR_ID, OTHER_GUILD_ID

ITEM_LINK = re.compile(r'class="poster" href="/g/[^/"]+/item/([0-9]+)"')


def shown_ids(html: str) -> list[int]:
    """The job ids of a grid page's cards, in order."""
    return [int(job_id) for job_id in ITEM_LINK.findall(html)]


class Links(HTMLParser):
    """Every address a page links to or loads: href, src, poster and a form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src", "poster", "action") and value]


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.found


async def api(site: Site, query: str = "") -> dict[str, Any]:
    fetched = await site.fetch(api_path(await site.slug()) + query)
    assert fetched.status == 200, fetched.text
    assert fetched.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = json.loads(fetched.body)
    return body


async def gallery_of(site: Site) -> Gallery:
    gallery = await site.service.public_gallery(await site.slug())
    assert gallery is not None
    return gallery


async def every_route(site: Site, slug: str) -> list[str]:
    """One address of each kind in the gallery at slug."""
    fox = site.jobs["fox"]
    handle = creator_handle(await site.service.settings(GUILD_ID), ANA)
    return [
        gallery_path(slug),
        top_path(slug),
        search_path(slug) + "?q=fox",
        creator_path(slug, handle),
        item_path(slug, fox),
        media_path(slug, fox, "mp4"),
        media_path(slug, fox, "jpg"),
        api_path(slug),
    ]


def assert_secured(fetched: Fetched) -> None:
    assert fetched.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert fetched.headers["Referrer-Policy"] == "no-referrer"
    assert fetched.headers["X-Frame-Options"] == "DENY"
    assert "aiohttp" not in fetched.headers.get("Server", "") and "Python" not in fetched.headers.get("Server", "")


# -- who may see it ------------------------------------------------------------------------------------------------


async def test_a_public_gallery_answers_every_route(site: Site) -> None:
    expected_types = ["text/html"] * 5 + ["video/mp4", "image/jpeg", "application/json"]
    for path, content_type in zip(await every_route(site, await site.slug()), expected_types, strict=True):
        fetched = await site.fetch(path)
        assert fetched.status == 200, path
        assert fetched.headers["Content-Type"].startswith(content_type), path
        assert fetched.headers["Cache-Control"] == "no-cache", path
        assert_secured(fetched)


async def test_a_private_gallery_is_the_same_404_as_an_address_that_never_existed(site: Site) -> None:
    slug = await site.slug()
    await site.service.set_public(site.moderator, False)
    never = await site.fetch("/g/NoSuchGalleryAtAll0000")
    never_api = await site.fetch("/g/NoSuchGalleryAtAll0000/api/items")
    for path in await every_route(site, slug):
        fetched = await site.fetch(path)
        assert fetched.status == 404, path
        assert_secured(fetched)
        assert fetched.body == (never_api.body if "/api/" in path else never.body), path
    assert json.loads(never_api.body) == {"error": json.loads(never_api.body)["error"]}

    await site.service.set_public(site.moderator, True)
    assert (await site.fetch(gallery_path(slug))).status == 200


async def test_a_rotated_link_breaks_every_old_address_and_serves_the_new_one(site: Site) -> None:
    old = await site.slug()
    old_routes = await every_route(site, old)
    await site.service.rotate_link(site.moderator)
    new = await site.slug()
    assert new != old
    for path in old_routes:
        assert (await site.fetch(path)).status == 404, path
    for path in await every_route(site, new):
        assert (await site.fetch(path)).status == 200, path


async def test_another_servers_clips_are_never_shown(site: Site) -> None:
    slug = await site.slug()
    other = site.jobs["other"]
    assert other not in shown_ids((await site.fetch(gallery_path(slug))).text)
    for path in (item_path(slug, other), media_path(slug, other, "mp4"), media_path(slug, other, "jpg")):
        assert (await site.fetch(path)).status == 404, path
    assert other not in [item["job_id"] for item in (await api(site, "?q=fox"))["items"]]


Removal = Callable[[Site, int], Awaitable[None]]


async def hide(site: Site, job_id: int) -> None:
    await site.service.hide(site.moderator, job_id)


async def opt_out(site: Site, job_id: int) -> None:
    assert await site.service.opt_out(GUILD_ID, ANA)


async def delete(site: Site, job_id: int) -> None:
    await site.service.delete(GUILD_ID, job_id, ANA)


@pytest.mark.parametrize("remove", [hide, opt_out, delete], ids=["hidden", "opted-out", "deleted"])
async def test_a_clip_taken_out_of_the_gallery_is_gone_on_the_next_request(site: Site, remove: Removal) -> None:
    slug = await site.slug()
    fox = site.jobs["fox"]
    video = await site.fetch(media_path(slug, fox, "mp4"))
    assert video.status == 200
    grids = (gallery_path(slug), f"{gallery_path(slug)}/top", f"{gallery_path(slug)}/search?q=fox")
    for grid in grids:  # read once before, so that an answer kept from then would show
        assert fox in shown_ids((await site.fetch(grid)).text), grid
    assert (await site.fetch(item_path(slug, fox))).status == 200
    assert fox in [item["job_id"] for item in (await api(site))["items"]]

    await remove(site, fox)

    assert (await site.fetch(item_path(slug, fox))).status == 404
    assert (await site.fetch(media_path(slug, fox, "jpg"))).status == 404
    # A browser that kept the file and revalidates is refused too, never told 304.
    revalidated = await site.fetch(media_path(slug, fox, "mp4"), headers={"If-None-Match": video.headers["ETag"]})
    assert revalidated.status == 404
    assert (await site.fetch(media_path(slug, fox, "mp4"), "HEAD")).status == 404
    for grid in grids:
        assert fox not in shown_ids((await site.fetch(grid)).text), grid
    assert fox not in [item["job_id"] for item in (await api(site))["items"]]
    assert fox not in [item["job_id"] for item in (await api(site, "?order=top"))["items"]]


async def test_a_change_another_process_commits_shows_on_the_next_request(site: Site) -> None:
    """Pages are answered again from memory only while the database is unchanged (gallery.cache): a change that a
    process of its own makes (the bot, while `python -m gallery` serves) shows at once too."""
    slug = await site.slug()
    fox = site.jobs["fox"]
    assert fox in shown_ids((await site.fetch(gallery_path(slug))).text)
    assert fox in shown_ids((await site.fetch(gallery_path(slug))).text)  # the same answer, from memory

    hide_elsewhere = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HIDE_SCRIPT, str(site.database.url.database), str(fox)
    )
    assert await hide_elsewhere.wait() == 0

    assert fox not in shown_ids((await site.fetch(gallery_path(slug))).text)
    assert (await site.fetch(item_path(slug, fox))).status == 404


HIDE_SCRIPT = """
import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as connection:
    connection.execute("UPDATE jobs SET gallery_hidden_at = '2026-12-02 12:00:00' WHERE id = ?", (int(sys.argv[2]),))
"""


async def test_a_creator_who_opted_out_has_no_page(site: Site) -> None:
    slug = await site.slug()
    handle = creator_handle(await gallery_of(site), ANA)
    assert (await site.fetch(creator_path(slug, handle))).status == 200
    await site.service.opt_out(GUILD_ID, ANA)
    assert (await site.fetch(creator_path(slug, handle))).status == 404
    assert (await api(site, f"?creator={handle}"))["items"] == []


# -- the pages -----------------------------------------------------------------------------------------------------


async def test_the_grid_shows_the_newest_first_and_every_card_says_it_is_ai_generated(site: Site) -> None:
    html = (await site.fetch(gallery_path(await site.slug()))).text
    newest_first = [site.jobs[name] for name in reversed(SAMPLES)]
    assert shown_ids(html) == newest_first
    assert html.count('<span class="badge">AI-generated</span>') == len(SAMPLES)
    assert html.count('loading="lazy"') == len(SAMPLES)
    assert '<meta name="viewport"' in html


async def test_the_most_starred_page_lists_starred_clips_by_stars(site: Site) -> None:
    html = (await site.fetch(f"{gallery_path(await site.slug())}/top")).text
    # fox 3, boat 2, then balloon and harbour with 1 each, the newer first; unstarred clips are not listed.
    assert shown_ids(html) == [site.jobs[name] for name in ("fox", "boat", "balloon", "harbour")]


async def test_the_item_page_plays_the_clip_and_gives_its_full_credit(site: Site) -> None:
    slug = await site.slug()
    fox = site.jobs["fox"]
    html = (await site.fetch(item_path(slug, fox))).text
    assert '<video controls preload="metadata"' in html
    assert f'poster="{media_path(slug, fox, "jpg")}"' in html
    assert f'<source src="{media_path(slug, fox, "mp4")}" type="video/mp4">' in html
    assert SAMPLES["fox"][0] in html
    handle = creator_handle(await gallery_of(site), ANA)
    assert f'href="{creator_path(slug, handle)}">Ana</a>' in html
    for credit in ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan Team, Alibaba", "Apache-2.0", "256×160", "48 frames"):
        assert credit in html
    assert "16 fps" in html and "1 Dec 2026, 09:30 UTC" in html and "1001" in html  # fps, date, seed
    assert '<a href="https://www.apache.org/licenses/LICENSE-2.0" rel="noopener noreferrer">Apache-2.0</a>' in html
    message_link = re.search(r'href="https://discord\.com/channels/([0-9]+)/([0-9]+)/([0-9]+)"', html)
    assert message_link is not None and message_link.groups()[:2] == (str(GUILD_ID), str(CHANNEL_ID))
    assert "AI-generated" in html


async def test_a_clip_not_posted_has_no_discord_link_and_a_licence_link_must_be_http(site: Site) -> None:
    job_id = await site.seeder.delivered(
        "a lighthouse in a storm", user_id=CHLOE, user_name="Chloé", posted=False, licence_url="javascript:alert(1)"
    )
    html = (await site.fetch(item_path(await site.slug(), job_id))).text
    assert "discord.com" not in html
    assert "javascript:" not in html
    assert "<dd>Apache-2.0</dd>" in html
    item = next(item for item in (await api(site))["items"] if item["job_id"] == job_id)
    assert item["model"]["licence_url"] is None


async def test_a_prompt_is_always_shown_as_text(site: Site) -> None:
    slug = await site.slug()
    for path in (gallery_path(slug), item_path(slug, site.jobs["xss"]), f"{gallery_path(slug)}/search?q=alert"):
        html = (await site.fetch(path)).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<script" not in html, path  # the gallery runs no script at all
    assert any(item["prompt"] == XSS_PROMPT for item in (await api(site))["items"])


async def test_search_finds_clips_by_the_words_of_their_prompt(site: Site) -> None:
    slug = await site.slug()
    search = f"{gallery_path(slug)}/search"
    assert shown_ids((await site.fetch(f"{search}?q=harbour")).text) == [site.jobs["harbour"]]
    assert shown_ids((await site.fetch(f"{search}?q=FOX!!%20%22*")).text) == [site.jobs["fox"]]  # not the other's
    assert shown_ids((await site.fetch(f"{search}?q=balloo")).text) == [site.jobs["balloon"]]  # a word's start
    assert shown_ids((await site.fetch(f"{search}?q=misty+hills")).text) == [site.jobs["balloon"]]
    nothing = (await site.fetch(f"{search}?q=submarine")).text
    assert shown_ids(nothing) == [] and "No clip" in nothing
    empty = await site.fetch(f"{search}?q=%20%21")
    assert empty.status == 200 and shown_ids(empty.text) == []
    echoed = (await site.fetch(f"{search}?q=%22%3E%3Cb%3Ebold")).text
    assert 'value="&#34;&gt;&lt;b&gt;bold"' in echoed and "<b>" not in echoed
    assert [item["job_id"] for item in (await api(site, "?q=snow"))["items"]] == [site.jobs["fox"]]


async def test_a_creator_page_lists_only_that_creators_clips(site: Site) -> None:
    slug = await site.slug()
    gallery = await gallery_of(site)
    html = (await site.fetch(creator_path(slug, creator_handle(gallery, ANA)))).text
    assert "Clips by Ana" in html
    assert shown_ids(html) == [site.jobs[name] for name in ("balloon", "boat", "fox")]
    ben = (await site.fetch(creator_path(slug, creator_handle(gallery, BEN)))).text
    assert shown_ids(ben) == [site.jobs["xss"], site.jobs["harbour"]]
    assert (await site.fetch(creator_path(slug, "0123456789abcdef"))).status == 404
    assert (await site.fetch(creator_path(slug, creator_handle(gallery, STARGAZERS[0])))).status == 404


async def test_every_address_a_page_links_to_answers(site: Site) -> None:
    slug = await site.slug()
    seen: set[str] = set()
    for page in (gallery_path(slug), f"{gallery_path(slug)}/top", item_path(slug, site.jobs["fox"])):
        for link in links_of((await site.fetch(page)).text):
            if link.startswith("https://"):
                continue  # the licence and the Discord post
            assert link.startswith("/"), link
            seen.add(link)
    assert any("/creator/" in link for link in seen) and any(link.endswith(".jpg") for link in seen)
    for link in sorted(seen):
        assert (await site.fetch(link)).status == 200, link


async def test_pages_hold_no_discord_id_no_file_path_and_no_database_id(site: Site) -> None:
    slug = await site.slug()
    pages = [gallery_path(slug), f"{gallery_path(slug)}/top", item_path(slug, site.jobs["fox"])]
    handle = creator_handle(await gallery_of(site), ANA)
    pages += [creator_path(slug, handle), f"{gallery_path(slug)}/api/items"]
    secrets = [str(user_id) for user_id in (ANA, BEN, CHLOE, MODERATOR_ID, *STARGAZERS)]
    secrets += [str(GUILD_ID), str(OTHER_GUILD_ID), str(site.data_dir), str(site.data_dir.parent), "media/"]
    for page in pages:
        # The one place a Discord id may appear: the link to the clip's post, which must name its server.
        text = re.sub(r"https://discord\.com/channels/[0-9/]+", "", (await site.fetch(page)).text)
        text = text.replace(f"/g/{slug}/media/", "")  # the media routes, which hold only the job number
        for secret in secrets:
            assert secret not in text, (page, secret)


async def test_paging_a_grid_follows_the_older_link_to_the_end(site: Site) -> None:
    for number in range(30):
        await site.seeder.delivered(f"filler clip number {number}", user_id=CHLOE, user_name="Chloé")
    slug = await site.slug()
    first = (await site.fetch(gallery_path(slug))).text
    assert len(shown_ids(first)) == 24
    older = re.search(r'<a class="button" rel="next" href="([^"]+)">Older clips', first)
    assert older is not None
    second = (await site.fetch(older.group(1).replace("&amp;", "&"))).text
    assert len(shown_ids(second)) == 30 + len(SAMPLES) - 24
    assert set(shown_ids(first)).isdisjoint(shown_ids(second))
    assert 'rel="next"' not in second and "Back to the first page" in second


# -- the API -------------------------------------------------------------------------------------------------------


async def test_the_api_describes_each_item_in_full(site: Site) -> None:
    slug = await site.slug()
    body = await api(site)
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    fox = next(item for item in body["items"] if item["job_id"] == site.jobs["fox"])
    handle = creator_handle(await gallery_of(site), ANA)
    assert fox == {
        "job_id": site.jobs["fox"],
        "prompt": SAMPLES["fox"][0],
        "creator": {"name": "Ana", "handle": handle, "url": creator_path(slug, handle)},
        "model": {
            "id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            "authors": "Wan Team, Alibaba",
            "licence": "Apache-2.0",
            "licence_url": "https://www.apache.org/licenses/LICENSE-2.0",
        },
        "seed": 1001,
        "width": 256,
        "height": 160,
        "frames": 48,
        "fps": 16,
        "created_at": "2026-12-01T09:30:00+00:00",
        "stars": 3,
        "page_url": item_path(slug, site.jobs["fox"]),
        "video_url": media_path(slug, site.jobs["fox"], "mp4"),
        "poster_url": media_path(slug, site.jobs["fox"], "jpg"),
        "ai_generated": True,
    }
    assert datetime.fromisoformat(fox["created_at"]).tzinfo is not None
    ana = await api(site, f"?creator={handle}")
    assert [item["job_id"] for item in ana["items"]] == [site.jobs[name] for name in ("balloon", "boat", "fox")]


@pytest.mark.parametrize("order", ["recent", "top"])
async def test_paging_the_api_visits_every_visible_item_exactly_once(site: Site, order: str) -> None:
    await site.service.hide(site.moderator, site.jobs["boat"])
    expected = [item["job_id"] for item in (await api(site, f"?order={order}&limit=60"))["items"]]
    assert site.jobs["boat"] not in expected and len(expected) >= 3
    visited: list[int] = []
    cursor = ""
    for _ in range(len(expected) + 1):
        body = await api(site, f"?order={order}&limit=2{cursor}")
        visited += [item["job_id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert visited == expected


async def test_a_page_holds_at_most_max_page_size_items_whatever_is_asked(site: Site) -> None:
    for number in range(MAX_PAGE_SIZE + 5 - len(SAMPLES)):
        await site.seeder.delivered(f"filler clip number {number}", user_id=CHLOE, user_name="Chloé")
    assert len((await api(site, "?limit=100000"))["items"]) == MAX_PAGE_SIZE
    assert len((await api(site))["items"]) == 24
    assert len((await api(site, "?limit=0"))["items"]) == 1
    slug = await site.slug()
    for bad in ("abc", "-1", "1e3", "9" * 50, "%D9%A3"):
        fetched = await site.fetch(f"{gallery_path(slug)}/api/items?limit={bad}")
        assert fetched.status == 400, bad
        assert "limit" in json.loads(fetched.body)["error"]


async def test_a_cursor_the_gallery_did_not_write_is_a_400(site: Site) -> None:
    slug = await site.slug()
    for query in ("?cursor=zzz", "?order=top&cursor=12", "?cursor=1.2", "?order=sideways"):
        fetched = await site.fetch(f"{gallery_path(slug)}/api/items{query}")
        assert fetched.status == 400, query
        assert fetched.headers["Content-Type"].startswith("application/json")
        assert set(json.loads(fetched.body)) == {"error"}
        assert_secured(fetched)
    page = await site.fetch(f"{gallery_path(slug)}?cursor=..%2F..%2Fetc")
    assert page.status == 400 and page.headers["Content-Type"].startswith("text/html")
    assert "The cursor is not one this gallery wrote." in page.text and "Community gallery" in page.text


# -- files -------------------------------------------------------------------------------------------------------


async def test_a_range_request_gets_exactly_those_bytes(site: Site) -> None:
    slug = await site.slug()
    path = site.data_dir / "media" / f"{site.jobs['fox']}.mp4"
    fetched = await site.fetch(media_path(slug, site.jobs["fox"], "mp4"), headers={"Range": "bytes=0-99"})
    assert fetched.status == 206
    assert fetched.body == path.read_bytes()[:100]
    assert fetched.headers["Content-Range"] == f"bytes 0-99/{path.stat().st_size}"
    assert fetched.headers["Content-Type"] == "video/mp4"
    assert_secured(fetched)


async def test_files_revalidate_with_their_etag(site: Site) -> None:
    slug = await site.slug()
    for kind, content_type in (("mp4", "video/mp4"), ("jpg", "image/jpeg")):
        path = media_path(slug, site.jobs["boat"], kind)  # type: ignore[arg-type]
        fetched = await site.fetch(path)
        assert fetched.headers["Content-Type"] == content_type
        assert fetched.headers["Cache-Control"] == "no-cache"
        assert "Last-Modified" in fetched.headers
        assert fetched.body == (site.data_dir / "media" / f"{site.jobs['boat']}.{kind}").read_bytes()
        again = await site.fetch(path, headers={"If-None-Match": fetched.headers["ETag"]})
        assert again.status == 304 and again.body == b""
        assert_secured(again)


async def test_head_answers_without_a_body(site: Site) -> None:
    slug = await site.slug()
    video = site.data_dir / "media" / f"{site.jobs['fox']}.mp4"
    fetched = await site.fetch(media_path(slug, site.jobs["fox"], "mp4"), "HEAD")
    assert fetched.status == 200 and fetched.body == b""
    assert int(fetched.headers["Content-Length"]) == video.stat().st_size
    page = await site.fetch(gallery_path(slug), "HEAD")
    assert page.status == 200 and page.body == b"" and page.headers["Content-Type"].startswith("text/html")


async def test_a_missing_file_is_a_404(site: Site) -> None:
    slug = await site.slug()
    (site.data_dir / "media" / f"{site.jobs['beach']}.mp4").unlink()
    fetched = await site.fetch(media_path(slug, site.jobs["beach"], "mp4"))
    assert fetched.status == 404 and "Not found" in fetched.text
    assert (await site.fetch(item_path(slug, site.jobs["beach"]))).status == 200


async def test_the_style_sheet_is_the_one_static_file(site: Site) -> None:
    fetched = await site.fetch("/static/gallery.css")
    assert fetched.status == 200 and fetched.headers["Content-Type"].startswith("text/css")
    assert b"prefers-color-scheme" in fetched.body
    for path in ("/static/", "/static", "/static/gallery.css/", "/static/base.html", "/templates/base.html"):
        assert (await site.raw_get(path)).status == 404, path


async def test_the_front_page_names_no_gallery(site: Site) -> None:
    fetched = await site.fetch("/")
    assert fetched.status == 200
    assert "promptreel" in fetched.text and "/g/" not in fetched.text
    assert_secured(fetched)


# -- the security policy -------------------------------------------------------------------------------------------


async def test_only_get_and_head_are_answered(site: Site) -> None:
    slug = await site.slug()
    paths = [gallery_path(slug), media_path(slug, site.jobs["fox"], "mp4"), f"{gallery_path(slug)}/api/items", "/x"]
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in paths:
            fetched = await site.fetch(path, method)
            assert fetched.status == 405, (method, path)
            assert fetched.headers["Allow"] == "GET, HEAD"
            assert_secured(fetched)
    assert (await site.fetch(media_path(slug, site.jobs["fox"], "mp4"))).status == 200  # nothing was changed


TRAVERSALS = (
    "/g/{slug}/media/..%2f..%2fbot.db",
    "/g/{slug}/media/..%2F..%2Fbot.db",
    "/g/{slug}/media/%2e%2e/x",
    "/g/{slug}/media/%2e%2e%2fsecret.txt",
    "/g/{slug}/media/../../etc/passwd",
    "/g/{slug}/media/../secret.txt",
    "/g/{slug}/media/..%5csecret.txt",
    "/g/{slug}/media/..\\secret.txt",
    "/g/{slug}/media/..\\..\\bot.db",
    "/g/{slug}/media/%2Fetc%2Fpasswd",
    "/g/{slug}/media/{fox}.mp4%2f..%2f..%2fbot.db",
    "/g/{slug}/media/{fox}.mp4/../../../bot.db",
    "/g/{slug}/media/{fox}.json",
    "/g/{slug}/media/secret.txt",
    "/g/{slug}/item/{fox}/../../../../bot.db",
    "/g/{slug}/../../bot.db",
    "/g/..%2f..%2fbot.db",
    "/static/..%2f..%2fpyproject.toml",
    "/static/../../pyproject.toml",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static\\..\\..\\pyproject.toml",
    "//etc/passwd",
    "/etc/passwd",
    "http://127.0.0.1/etc/passwd",
    "/g/{slug}/media/%00.mp4",
)
"""Request targets that try to leave the routes, or DATA_DIR; sent byte for byte (no client normalises them)."""


async def test_no_address_reaches_a_file_outside_the_database_keys(site: Site) -> None:
    (site.data_dir / "secret.txt").write_text("TOP-SECRET", encoding="utf-8")
    slug = await site.slug()
    for target in TRAVERSALS:
        fetched = await site.raw_get(target.format(slug=slug, fox=site.jobs["fox"]))
        assert fetched.status == 404, target
        for content in (b"TOP-SECRET", b"SQLite format", b"[project]", b"root:", b"ftyp"):
            assert content not in fetched.body, target
        assert_secured(fetched)


async def test_a_job_number_that_is_not_one_is_a_404(site: Site) -> None:
    slug = await site.slug()
    for job_id in ("abc", "-1", "1e3", "0x10", "%D9%A3", "1" * 19, "9" * 18, "0", "%201", "1%00"):
        for path in (f"/g/{slug}/item/{job_id}", f"/g/{slug}/media/{job_id}.mp4", f"/g/{slug}/media/{job_id}.jpg"):
            fetched = await site.raw_get(path)
            assert fetched.status == 404, path
            assert_secured(fetched)


async def test_an_unexpected_error_is_a_plain_500_page_and_a_logged_traceback(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(slug: str, job_id: int) -> None:
        raise RuntimeError(f"the database at {site.data_dir} is on fire")

    monkeypatch.setattr(site.service, "public_item", broken)
    with caplog.at_level(logging.ERROR, logger="gallery.errors"):
        fetched = await site.fetch(item_path(await site.slug(), site.jobs["fox"]))
    assert fetched.status == 500
    assert "Something went wrong" in fetched.text and "Community gallery" in fetched.text
    assert "on fire" not in fetched.text and "Traceback" not in fetched.text and str(site.data_dir) not in fetched.text
    assert_secured(fetched)
    [record] = [record for record in caplog.records if record.name == "gallery.errors"]
    assert record.exc_info is not None and "on fire" in str(record.exc_info[1])


# -- the server ----------------------------------------------------------------------------------------------------


async def test_the_server_logs_where_it_listens(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    server = GalleryServer(site.service, MediaFiles(site.data_dir), "127.0.0.1", 0)
    with caplog.at_level(logging.INFO, logger="gallery.server"):
        await server.start()
    try:
        lines = [record.getMessage() for record in caplog.records if record.name == "gallery.server"]
        assert lines == [f"web gallery listening on http://127.0.0.1:{server.port}"]
        assert server.port != 0
    finally:
        await server.close()
        await server.close()  # a second close does nothing


async def test_a_request_the_parser_cannot_read_is_refused_without_a_logged_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can send such requests: each must not put an ERROR and a traceback in the operator's log."""
    with caplog.at_level(logging.DEBUG):
        for target in ("/g/\xff\xfe", "/" + "a" * 9000):
            assert (await site.raw_get(target)).status == 400
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


async def test_a_port_in_use_stops_the_start_with_one_polite_line(site: Site, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = GalleryServer(site.service, MediaFiles(site.data_dir), "127.0.0.1", port)
        with pytest.raises(GalleryPortUnavailable) as raised:
            await server.start()
    assert (raised.value.host, raised.value.port) == ("127.0.0.1", port)
    message = str(raised.value)
    assert "\n" not in message and f"127.0.0.1:{port}" in message
    assert "GALLERY_PORT" in message and "0 to turn the web gallery off" in message
    await server.close()
