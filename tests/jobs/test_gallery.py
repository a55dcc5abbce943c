"""The community gallery (jobs.gallery.GalleryService) against a real migrated SQLite database: what is listed and in
which order, paging by cursor and by offset, the prompt search and its FTS5 index, stars, opt-outs, deletes by the
creator, moderators' hiding, the public address and its rotation, and the cross-post channel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TypedDict

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from common.states import AuditAction, JobState
from db.database import Database
from db.models import SEARCH_TABLE, GalleryStar, GuildSettings, Job
from db.repositories.audit import AuditRepository
from jobs.errors import AlreadyHidden, NotHidden, NotInGallery, NotYourJob
from jobs.gallery import (
    MAX_PAGE_SIZE,
    BadCursor,
    CrossPost,
    Gallery,
    GalleryQuery,
    GalleryService,
    Order,
    Star,
    creator_handle,
)
from jobs.media import MediaFiles
from jobs.moderation import Moderator
from model.contract import manifest_key
from tests.jobs.conftest import CHANNEL_ID, GUILD_ID, ManualClock

OTHER_GUILD_ID = 333
MODERATOR = Moderator(GUILD_ID, 999)
A, B, C = 1, 2, 3
FOX = "a fox running through snow"


class NotListed(TypedDict, total=False):
    """What keeps a job out of a server's gallery whatever its settings."""

    state: JobState
    video: bool
    guild_id: int


def clip(
    prompt: str = FOX,
    *,
    user_id: int = A,
    guild_id: int = GUILD_ID,
    state: JobState = JobState.DELIVERED,
    video: bool = True,
    stars: int = 0,
) -> Job:
    """A job row as the runner leaves it: delivered with its video (media/<id>.mp4 and .jpg, see `insert`) unless
    `state` or `video` say otherwise. `stars` sets the count alone, without GalleryStar rows (for ordering only)."""
    return Job(
        state=state,
        guild_id=guild_id,
        channel_id=CHANNEL_ID,
        user_id=user_id,
        user_name=f"member{user_id}",
        prompt=prompt,
        seed=7,
        preset_id="tiny",
        frames=9,
        width=64,
        height=64,
        fps=8,
        steps=2,
        guidance=5.0,
        max_bytes=10_485_760,
        cost=1,
        model_id="promptreel/tiny-random",
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        created_at=ManualClock().now(),
        video_key="media/new.mp4" if video else None,
        video_bytes=2048 if video else None,
        video_width=64 if video else None,
        video_height=64 if video else None,
        video_frames=9 if video else None,
        video_fps=8 if video else None,
        message_id=900_000 if state is JobState.DELIVERED else None,
        star_count=stars,
    )


async def insert(database: Database, *jobs: Job) -> list[int]:
    """The jobs' ids, in the order given (so later ones are newer)."""
    async with database.transaction() as session:
        ids = []
        for job in jobs:
            session.add(job)
            await session.flush()
            if job.video_key is not None:  # where the worker writes them
                job.video_key, job.poster_key = f"media/{job.id}.mp4", f"media/{job.id}.jpg"
            ids.append(job.id)
        return ids


async def add(database: Database, job: Job) -> int:
    [job_id] = await insert(database, job)
    return job_id


@pytest.fixture
def media(tmp_path: Path) -> MediaFiles:
    return MediaFiles(tmp_path / "data")


@pytest.fixture
def gallery(database: Database, media: MediaFiles, clock: ManualClock) -> GalleryService:
    return GalleryService(database=database, media=media, clock=clock)


async def listed(
    gallery: GalleryService,
    *,
    order: Order = "recent",
    words: str = "",
    creator_id: int | None = None,
    guild_id: int = GUILD_ID,
) -> list[int]:
    """The ids on the first page of the gallery; the tests that use this keep to one page."""
    page = await gallery.page(GalleryQuery(guild_id, order, creator_id, words), limit=MAX_PAGE_SIZE)
    assert page.next_cursor is None
    return [item.job_id for item in page.items]


async def every_page(gallery: GalleryService, query: GalleryQuery, limit: int) -> list[list[int]]:
    """Each page's ids, following the cursors to the last page."""
    pages: list[list[int]] = []
    cursor = None
    for _ in range(1000):  # a cursor that loops fails the test rather than hang it
        page = await gallery.page(query, cursor=cursor, limit=limit)
        pages.append([item.job_id for item in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
    raise AssertionError("the cursors never reached a last page")


async def star_rows(database: Database, job_id: int) -> int:
    async with database.snapshot() as session:
        return int(await session.scalar(select(func.count()).where(GalleryStar.job_id == job_id)) or 0)


async def star_count(database: Database, job_id: int) -> int:
    async with database.snapshot() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.star_count


async def indexed(database: Database, words: str) -> list[int]:
    """The job ids the search index itself holds for an FTS5 query, whatever the jobs table says."""
    async with database.snapshot() as session:
        query = text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :words ORDER BY rowid")
        return list((await session.scalars(query, {"words": words})).all())


async def check_search_index(database: Database) -> None:
    """FTS5's own check that the index matches the prompts in `jobs` (rank 1: against its content table too): raises
    if they are out of step."""
    async with database.transaction() as session:
        check = f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
        await session.execute(text(check))


async def audit(database: Database) -> list[tuple[AuditAction, int, int | None, str | None, str | None]]:
    async with database.snapshot() as session:
        rows = await AuditRepository(session).page(GUILD_ID, before_id=None, limit=100)
        return [(row.action, row.actor_id, row.target_id, row.before, row.after) for row in reversed(rows)]


# -- what is listed --------------------------------------------------------------------------------------------------


async def test_only_the_servers_delivered_clips_with_a_video_are_listed_newest_first(
    gallery: GalleryService, database: Database
) -> None:
    first, *_, second, third = await insert(
        database,
        clip(),
        clip(state=JobState.QUEUED, video=False),
        clip(state=JobState.RUNNING, video=False),
        clip(state=JobState.RENDERED),  # rendered, but its post was never confirmed
        clip(state=JobState.FAILED, video=False),
        clip(state=JobState.CANCELLED, video=False),
        clip(video=False),  # delivered, but with no video on record
        clip(guild_id=OTHER_GUILD_ID),
        clip(user_id=B),
        clip(user_id=C),
    )

    assert await listed(gallery) == [third, second, first]
    item = await gallery.item(GUILD_ID, second)
    assert item is not None
    assert (item.user_id, item.creator_name, item.prompt, item.stars) == (B, "member2", FOX, 0)
    assert (item.video_key, item.poster_key) == (f"media/{second}.mp4", f"media/{second}.jpg")
    assert (item.width, item.height, item.frames, item.fps, item.video_bytes) == (64, 64, 9, 8, 2048)
    assert await gallery.item(GUILD_ID, second - 1) is None  # the other server's clip is not in this gallery
    assert await listed(gallery, guild_id=OTHER_GUILD_ID) == [second - 1]


async def test_a_creators_clips_are_listed_on_their_own(gallery: GalleryService, database: Database) -> None:
    a1, _, a2, _ = await insert(database, clip(user_id=A), clip(user_id=B), clip(user_id=A), clip(user_id=C))
    assert await listed(gallery, creator_id=A) == [a2, a1]
    assert await listed(gallery, creator_id=404) == []


STARS = [(n * 7) % 4 for n in range(23)]  # 0 to 3 stars: ties at every count, and unstarred clips in between


@pytest.mark.parametrize("order", ["recent", "top"])
@pytest.mark.parametrize("limit", [1, 2, 5, 22, 23, MAX_PAGE_SIZE])
async def test_following_the_cursors_visits_every_clip_once_in_order(
    gallery: GalleryService, database: Database, order: Order, limit: int
) -> None:
    ids = await insert(database, *(clip(stars=stars) for stars in STARS))
    stars = dict(zip(ids, STARS, strict=True))
    if order == "recent":
        expected = sorted(ids, reverse=True)
    else:
        expected = sorted((job_id for job_id in ids if stars[job_id]), key=lambda job_id: (-stars[job_id], -job_id))

    pages = await every_page(gallery, GalleryQuery(GUILD_ID, order), limit)

    assert [job_id for page in pages for job_id in page] == expected
    assert all(len(page) == limit for page in pages[:-1]) and 1 <= len(pages[-1]) <= limit


@pytest.mark.parametrize("order", ["recent", "top"])
async def test_an_empty_gallery_is_one_empty_page(gallery: GalleryService, order: Order) -> None:
    assert await every_page(gallery, GalleryQuery(GUILD_ID, order), 10) == [[]]


@pytest.mark.parametrize("order", ["recent", "top"])
@pytest.mark.parametrize("creator_id", [None, B])
async def test_a_search_pages_by_cursor_too(
    gallery: GalleryService, database: Database, order: Order, creator_id: int | None
) -> None:
    jobs = [clip(FOX if n % 2 else "city lights at night", user_id=(A, B, C)[n % 3], stars=n % 4) for n in range(40)]
    ids = await insert(database, *jobs)
    matching = [
        (job_id, job.star_count)
        for job_id, job in zip(ids, jobs, strict=True)
        if "fox" in job.prompt and creator_id in (None, job.user_id) and (order == "recent" or job.star_count)
    ]
    in_order = sorted(matching, key=lambda found: (-found[1] if order == "top" else 0, -found[0]))

    pages = await every_page(gallery, GalleryQuery(GUILD_ID, order, creator_id, words="fox"), 3)

    assert [job_id for page in pages for job_id in page] == [job_id for job_id, _ in in_order]
    assert len(pages) > 2


@pytest.mark.parametrize("order", ["recent", "top"])
@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "abc",
        "1.2.3",
        "-1",
        "1e5",
        " 12",
        "12 ",
        "12\n",
        "0x1f",
        "١٢",  # digits, but not ASCII ones
        "1.-2",
        ".5",
        "5.",
        "9" * 19,  # more than a job id can be
        "1" * 200,
        "1" * 10 + ".5",  # more stars than the cursor format holds
        "5." + "9" * 19,
        "1.2" + "\x00",
        "None",
        "null",
    ],
)
async def test_a_cursor_the_service_did_not_write_is_refused(
    gallery: GalleryService, database: Database, order: Order, cursor: str
) -> None:
    await insert(database, clip(stars=1))
    with pytest.raises(BadCursor):
        await gallery.page(GalleryQuery(GUILD_ID, order), cursor=cursor, limit=10)


async def test_each_orders_cursor_is_refused_by_the_other(gallery: GalleryService, database: Database) -> None:
    await insert(database, *(clip(stars=1) for _ in range(3)))
    recent = await gallery.page(GalleryQuery(GUILD_ID, "recent"), limit=1)
    top = await gallery.page(GalleryQuery(GUILD_ID, "top"), limit=1)
    assert recent.next_cursor is not None and top.next_cursor is not None

    with pytest.raises(BadCursor):
        await gallery.page(GalleryQuery(GUILD_ID, "top"), cursor=recent.next_cursor, limit=1)
    with pytest.raises(BadCursor):
        await gallery.page(GalleryQuery(GUILD_ID, "recent"), cursor=top.next_cursor, limit=1)


@pytest.mark.parametrize(("order", "cursor"), [("recent", "9" * 18), ("top", "9" * 9 + "." + "9" * 18)])
async def test_the_largest_cursors_the_format_allows_are_read_without_overflow(
    gallery: GalleryService, database: Database, order: Order, cursor: str
) -> None:
    job_id = await add(database, clip(stars=2))
    page = await gallery.page(GalleryQuery(GUILD_ID, order), cursor=cursor, limit=10)
    assert [item.job_id for item in page.items] == [job_id]


@pytest.mark.parametrize(
    ("asked", "given"), [(10**9, MAX_PAGE_SIZE), (MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE), (0, 1), (-5, 1)]
)
async def test_a_page_holds_at_least_one_and_at_most_max_page_size_clips(
    gallery: GalleryService, database: Database, asked: int, given: int
) -> None:
    ids = await insert(database, *(clip() for _ in range(MAX_PAGE_SIZE + 5)))
    page = await gallery.page(GalleryQuery(GUILD_ID), limit=asked)
    assert [item.job_id for item in page.items] == ids[::-1][:given]
    assert page.next_cursor is not None


async def test_offset_paging_skips_whole_pages(gallery: GalleryService, database: Database) -> None:
    newest_first = (await insert(database, *(clip() for _ in range(7))))[::-1]

    async def by_offset(offset: int) -> tuple[list[int], bool]:
        page = await gallery.page(GalleryQuery(GUILD_ID), offset=offset, limit=3)
        return [item.job_id for item in page.items], page.next_cursor is not None

    assert await by_offset(0) == (newest_first[:3], True)
    assert await by_offset(3) == (newest_first[3:6], True)
    assert await by_offset(6) == (newest_first[6:], False)
    assert await by_offset(-4) == (newest_first[:3], True)  # a negative offset is no offset
    assert await by_offset(100) == ([], False)


async def test_the_most_starred_list_holds_starred_clips_only_most_stars_first(
    gallery: GalleryService, database: Database
) -> None:
    one, none, three, also_one, two = await insert(database, *(clip() for _ in range(5)))
    for job_id, members in ((one, [A]), (three, [A, B, C]), (also_one, [C]), (two, [B, C])):
        for member in members:
            await gallery.toggle_star(GUILD_ID, job_id, member)

    assert await listed(gallery, order="top") == [three, two, also_one, one]  # newest first among equals
    assert none in await listed(gallery)
    page = await gallery.page(GalleryQuery(GUILD_ID, "top"), limit=MAX_PAGE_SIZE)
    assert [item.stars for item in page.items] == [3, 2, 1, 1]


# -- search ----------------------------------------------------------------------------------------------------------


@pytest.fixture
async def prompts(database: Database) -> dict[str, int]:
    texts = [
        FOX,
        "Café terrace at night, Van Gogh style",
        "city lights at night",
        "the SNOWY mountains at dawn",
        "die Straße bei Nacht",
        "ΛΌΓΟΣ και ήθος",
        "İstanbul skyline from the water",
    ]
    return dict(zip(texts, await insert(database, *(clip(prompt) for prompt in texts)), strict=True))


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ("fox", [FOX]),
        ("FOX", [FOX]),  # any case
        ("Running", [FOX]),
        ("run", [FOX]),  # the start of a word
        ("snow", ["the SNOWY mountains at dawn", FOX]),
        ("cafe", ["Café terrace at night, Van Gogh style"]),  # accents ignored
        ("CAFÉ", ["Café terrace at night, Van Gogh style"]),
        ("terrace CAFE", ["Café terrace at night, Van Gogh style"]),
        ("night", ["city lights at night", "Café terrace at night, Van Gogh style"]),
        ("night city", ["city lights at night"]),  # every word must match
        ("night fox", []),
        ("nig", ["city lights at night", "Café terrace at night, Van Gogh style"]),
        ("ogh", []),  # inside a word is not the start of one
        ("wolf", []),
        ("Straße", ["die Straße bei Nacht"]),  # as typed
        ("STRASSE", []),  # FTS5 folds case letter by letter: ß is not ss
        ("λόγος", ["ΛΌΓΟΣ και ήθος"]),
        ("logos", []),
        ("İstanbul", ["İstanbul skyline from the water"]),
        ("istanbul", ["İstanbul skyline from the water"]),
    ],
)
async def test_a_search_finds_the_prompts_holding_every_word(
    gallery: GalleryService, prompts: dict[str, int], words: str, found: list[str]
) -> None:
    assert await listed(gallery, words=words) == [prompts[prompt] for prompt in found]


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ('"fox"', [FOX]),
        ('fox"', [FOX]),
        ('"', []),
        ("'", []),
        ("fox'", [FOX]),
        ("*", []),
        ("fox*", [FOX]),
        ("*fox", [FOX]),
        ("NEAR(", []),  # the word "near"
        ("NEAR(fox city)", []),  # three words: not FTS5's NEAR
        ("fox NEAR(", []),
        ("-fox", [FOX]),
        ("fox -snow", [FOX]),  # not FTS5's NOT
        ("fox NOT snow", []),  # "not" is a word like the others
        ("fox OR city", []),  # and "or" too: one prompt would need all three
        ("fox AND", []),
        ("prompt:fox", []),  # not a column filter: no prompt holds the word "prompt"
        ("{prompt}: fox", []),
        ("^fox", [FOX]),
        ("fox^", [FOX]),
        ("(fox)", [FOX]),
        ("fox + snow", [FOX]),
        ("fox\x00", [FOX]),
        ("fox\\", [FOX]),
        ("fox%", [FOX]),
        ("f_x", []),
        ("_", []),
        ("🦊", []),  # no letters: nothing to search for, so nothing found
        ("🦊 fox 🦊", [FOX]),
        ("x" * 10_000, []),
        ("fox " * 5000, [FOX]),  # only the first words count
        ("  \t\n ", None),
        ("", None),
    ],
)
async def test_punctuation_and_search_syntax_in_the_words_are_harmless(
    gallery: GalleryService, prompts: dict[str, int], words: str, found: list[str] | None
) -> None:
    """`found` None: no words at all, so the whole gallery is listed; words without a letter or digit find nothing."""
    expected = sorted(prompts.values(), reverse=True) if found is None else [prompts[prompt] for prompt in found]
    assert await listed(gallery, words=words) == expected
    assert await listed(gallery, words=words, order="top") == []  # nothing is starred


async def test_a_search_lists_only_the_servers_gallery(gallery: GalleryService, database: Database) -> None:
    shown = await add(database, clip())
    await insert(
        database,
        clip(guild_id=OTHER_GUILD_ID),
        clip(state=JobState.FAILED, video=False),
        clip(video=False),
    )
    assert await listed(gallery, words="fox") == [shown]


async def test_the_search_index_follows_a_changed_prompt(gallery: GalleryService, database: Database) -> None:
    fox, city = await insert(database, clip(FOX), clip("city lights at night"))
    async with database.transaction() as session:
        await session.execute(update(Job).where(Job.id == fox).values(prompt="a wolf howling at the moon"))

    assert await listed(gallery, words="fox") == []
    assert await listed(gallery, words="wolf moon") == [fox]
    assert await listed(gallery, words="city") == [city]
    assert await indexed(database, "fox") == []
    await check_search_index(database)


async def test_the_search_index_forgets_a_deleted_job(gallery: GalleryService, database: Database) -> None:
    fox, city = await insert(database, clip(FOX), clip("city lights at night"))
    assert await indexed(database, "fox") == [fox]
    async with database.transaction() as session:
        await session.execute(delete(Job).where(Job.id == fox))

    assert await indexed(database, "fox") == []
    assert await listed(gallery, words="fox") == []
    assert await indexed(database, "city") == [city]
    await check_search_index(database)


async def test_the_search_index_holds_every_new_job(database: Database) -> None:
    ids = await insert(database, clip(FOX), clip(f"{FOX} again", state=JobState.QUEUED, video=False))
    assert await indexed(database, "fox") == ids
    await check_search_index(database)


# -- stars -----------------------------------------------------------------------------------------------------------


async def test_each_member_stars_a_clip_once_and_a_second_click_takes_it_back(
    gallery: GalleryService, database: Database
) -> None:
    job_id = await add(database, clip(user_id=C))

    assert await gallery.toggle_star(GUILD_ID, job_id, A) == Star(starred=True, stars=1)
    assert await gallery.toggle_star(GUILD_ID, job_id, B) == Star(starred=True, stars=2)
    assert await gallery.toggle_star(GUILD_ID, job_id, A) == Star(starred=False, stars=1)
    assert await gallery.toggle_star(GUILD_ID, job_id, C) == Star(starred=True, stars=2)  # the creator's own too

    item = await gallery.item(GUILD_ID, job_id)
    assert item is not None and item.stars == 2
    assert await star_rows(database, job_id) == await star_count(database, job_id) == 2


async def test_stars_on_one_clip_leave_the_others_alone(gallery: GalleryService, database: Database) -> None:
    starred, other = await insert(database, clip(), clip())
    await gallery.toggle_star(GUILD_ID, starred, A)
    await gallery.toggle_star(GUILD_ID, other, A)
    await gallery.toggle_star(GUILD_ID, other, A)

    assert (await star_count(database, starred), await star_rows(database, starred)) == (1, 1)
    assert (await star_count(database, other), await star_rows(database, other)) == (0, 0)


@pytest.mark.parametrize(
    "kind",
    [
        NotListed(state=JobState.QUEUED, video=False),
        NotListed(state=JobState.RENDERED),
        NotListed(state=JobState.FAILED, video=False),
        NotListed(video=False),
        NotListed(guild_id=OTHER_GUILD_ID),
    ],
    ids=["queued", "rendered", "failed", "no video", "another server's"],
)
async def test_only_the_servers_delivered_clips_can_be_starred(
    gallery: GalleryService, database: Database, kind: NotListed
) -> None:
    job_id = await add(database, clip(**kind))
    with pytest.raises(NotInGallery) as refusal:
        await gallery.toggle_star(GUILD_ID, job_id, A)
    assert refusal.value == NotInGallery(job_id)
    assert (await star_rows(database, job_id), await star_count(database, job_id)) == (0, 0)


async def test_a_deleted_or_unknown_clip_cannot_be_starred(gallery: GalleryService, database: Database) -> None:
    job_id = await add(database, clip())
    await gallery.toggle_star(GUILD_ID, job_id, B)
    await gallery.delete(GUILD_ID, job_id, A)

    for missing in (job_id, job_id + 1):
        with pytest.raises(NotInGallery):
            await gallery.toggle_star(GUILD_ID, missing, B)
    assert await star_rows(database, job_id) == await star_count(database, job_id) == 1


async def test_a_number_beyond_the_databases_integers_names_nothing(
    gallery: GalleryService, database: Database
) -> None:
    """A forged button or option can carry 19 or 20 digits: it names no clip and no member, and fails nowhere."""
    await add(database, clip())
    for number in (2**63, 10**19 - 1, 10**20):
        with pytest.raises(NotInGallery):
            await gallery.toggle_star(GUILD_ID, number, B)
        with pytest.raises(NotInGallery):
            await gallery.delete(GUILD_ID, number, A)
        with pytest.raises(NotInGallery):
            await gallery.hide(Moderator(GUILD_ID, B), number)
        assert await gallery.item(GUILD_ID, number) is None
        assert (await gallery.page(GalleryQuery(GUILD_ID, creator_id=number), limit=5)).items == ()


async def test_twenty_members_starring_at_once_are_all_counted(gallery: GalleryService, database: Database) -> None:
    job_id = await add(database, clip())

    stars = await asyncio.gather(*(gallery.toggle_star(GUILD_ID, job_id, member) for member in range(100, 120)))

    assert all(star.starred for star in stars)
    assert sorted(star.stars for star in stars) == list(range(1, 21))  # each saw the count its own star made
    assert await star_count(database, job_id) == await star_rows(database, job_id) == 20


async def test_twenty_clicks_at_once_by_one_member_never_drift_the_count(
    gallery: GalleryService, database: Database
) -> None:
    job_id = await add(database, clip())

    stars = await asyncio.gather(*(gallery.toggle_star(GUILD_ID, job_id, A) for _ in range(20)))

    rows = await star_rows(database, job_id)
    assert rows in (0, 1)
    assert await star_count(database, job_id) == rows
    assert sum(1 if star.starred else -1 for star in stars) == rows  # every click took back the one before
    assert all(star.stars == (1 if star.starred else 0) for star in stars)


# -- opting out ------------------------------------------------------------------------------------------------------


async def test_opting_out_hides_past_and_later_clips_and_opting_in_brings_them_back(
    gallery: GalleryService, database: Database
) -> None:
    a1, b1, a2 = await insert(database, clip(user_id=A), clip(user_id=B), clip(user_id=A))
    elsewhere = await add(database, clip(user_id=A, guild_id=OTHER_GUILD_ID))
    await gallery.toggle_star(GUILD_ID, a2, B)

    assert await gallery.opt_out(GUILD_ID, A) is True
    assert await gallery.opt_out(GUILD_ID, A) is False  # nothing changed
    later = await add(database, clip(user_id=A))

    assert await listed(gallery) == [b1]
    assert await listed(gallery, order="top") == []
    assert await listed(gallery, words="fox") == [b1]
    assert await listed(gallery, creator_id=A) == []
    assert [await gallery.item(GUILD_ID, job_id) for job_id in (a1, a2, later)] == [None, None, None]
    assert await listed(gallery, guild_id=OTHER_GUILD_ID) == [elsewhere]  # one server's gallery only

    assert await gallery.opt_in(GUILD_ID, A) is True
    assert await gallery.opt_in(GUILD_ID, A) is False
    assert await listed(gallery) == [later, a2, b1, a1]
    assert await listed(gallery, order="top") == [a2]


async def test_opting_in_without_having_opted_out_changes_nothing(gallery: GalleryService, database: Database) -> None:
    job_id = await add(database, clip())
    assert await gallery.opt_in(GUILD_ID, A) is False
    assert await listed(gallery) == [job_id]


# -- deleting --------------------------------------------------------------------------------------------------------


def write_files(media: MediaFiles, job_id: int) -> list[Path]:
    """The clip's MP4, poster and manifest, as the worker leaves them."""
    paths = [media.path(key) for key in (f"media/{job_id}.mp4", f"media/{job_id}.jpg", manifest_key(job_id))]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"clip")
    return paths


async def test_the_creator_deletes_a_clip_with_its_files_once(
    gallery: GalleryService, database: Database, media: MediaFiles, clock: ManualClock
) -> None:
    job_id, kept = await insert(database, clip(user_id=A), clip(user_id=A))
    files, kept_files = write_files(media, job_id), write_files(media, kept)

    await gallery.delete(GUILD_ID, job_id, A)

    assert [path.exists() for path in files] == [False, False, False]
    assert all(path.exists() for path in kept_files)
    assert await gallery.item(GUILD_ID, job_id) is None
    assert await listed(gallery) == [kept]
    async with database.snapshot() as session:
        row = await session.get(Job, job_id)
        assert row is not None and row.gallery_deleted_at == clock.now()
        assert row.state is JobState.DELIVERED  # the job's history stays

    with pytest.raises(NotInGallery):
        await gallery.delete(GUILD_ID, job_id, A)


async def test_a_clip_whose_files_are_gone_already_is_deleted_all_the_same(
    gallery: GalleryService, database: Database
) -> None:
    job_id = await add(database, clip())
    await gallery.delete(GUILD_ID, job_id, A)
    assert await listed(gallery) == []


async def test_a_hidden_clip_or_one_of_a_member_who_opted_out_can_still_be_deleted(
    gallery: GalleryService, database: Database, media: MediaFiles
) -> None:
    hidden, opted_out = await insert(database, clip(user_id=A), clip(user_id=B))
    files = write_files(media, hidden) + write_files(media, opted_out)
    await gallery.hide(MODERATOR, hidden)
    await gallery.opt_out(GUILD_ID, B)

    await gallery.delete(GUILD_ID, hidden, A)
    await gallery.delete(GUILD_ID, opted_out, B)

    assert not any(path.exists() for path in files)


async def test_someone_elses_clip_is_not_theirs_to_delete(
    gallery: GalleryService, database: Database, media: MediaFiles
) -> None:
    job_id = await add(database, clip(user_id=A))
    files = write_files(media, job_id)

    with pytest.raises(NotYourJob) as refusal:
        await gallery.delete(GUILD_ID, job_id, B)

    assert refusal.value == NotYourJob(job_id)
    assert all(path.exists() for path in files)
    assert await listed(gallery) == [job_id]


@pytest.mark.parametrize(
    "kind",
    [NotListed(state=JobState.QUEUED, video=False), NotListed(video=False), NotListed(guild_id=OTHER_GUILD_ID)],
    ids=["queued", "no video", "another server's"],
)
async def test_only_a_delivered_clip_of_the_server_can_be_deleted(
    gallery: GalleryService, database: Database, kind: NotListed
) -> None:
    job_id = await add(database, clip(**kind))
    with pytest.raises(NotInGallery):
        await gallery.delete(GUILD_ID, job_id, A)
    async with database.snapshot() as session:
        row = await session.get(Job, job_id)
        assert row is not None and row.gallery_deleted_at is None


async def test_a_delete_removes_no_file_outside_data_dir(
    gallery: GalleryService, database: Database, media: MediaFiles, tmp_path: Path
) -> None:
    job_id = await add(database, clip())
    async with database.transaction() as session:  # a row that names a file it should not
        await session.execute(update(Job).where(Job.id == job_id).values(video_key="../outside.mp4"))
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"not the gallery's")

    await gallery.delete(GUILD_ID, job_id, A)

    assert outside.exists()
    assert await gallery.item(GUILD_ID, job_id) is None


# -- moderators ------------------------------------------------------------------------------------------------------


async def test_a_hidden_clip_leaves_every_list_until_unhidden_and_both_are_audited(
    gallery: GalleryService, database: Database
) -> None:
    hidden, shown = await insert(database, clip(), clip())
    await gallery.toggle_star(GUILD_ID, hidden, B)

    hide = await gallery.hide(MODERATOR, hidden)
    assert (hide.action, hide.actor_id, hide.target_id) == (AuditAction.GALLERY_HIDE, MODERATOR.user_id, hidden)
    assert await listed(gallery) == [shown]
    assert await listed(gallery, order="top") == []
    assert await listed(gallery, words="fox") == [shown]
    assert await listed(gallery, creator_id=A) == [shown]
    assert await gallery.item(GUILD_ID, hidden) is None
    with pytest.raises(AlreadyHidden) as already:
        await gallery.hide(MODERATOR, hidden)
    assert already.value == AlreadyHidden(hidden)

    unhide = await gallery.unhide(MODERATOR, hidden)
    assert unhide.action is AuditAction.GALLERY_UNHIDE
    assert await listed(gallery) == [shown, hidden]
    assert await listed(gallery, order="top") == [hidden]
    with pytest.raises(NotHidden) as not_hidden:
        await gallery.unhide(MODERATOR, hidden)
    assert not_hidden.value == NotHidden(hidden)

    assert await audit(database) == [
        (AuditAction.GALLERY_HIDE, MODERATOR.user_id, hidden, None, None),
        (AuditAction.GALLERY_UNHIDE, MODERATOR.user_id, hidden, None, None),
    ]


@pytest.mark.parametrize(
    "kind",
    [NotListed(state=JobState.FAILED, video=False), NotListed(guild_id=OTHER_GUILD_ID)],
    ids=["failed", "another server's"],
)
async def test_only_the_servers_delivered_clips_can_be_hidden(
    gallery: GalleryService, database: Database, kind: NotListed
) -> None:
    job_id = await add(database, clip(**kind))
    with pytest.raises(NotInGallery):
        await gallery.hide(MODERATOR, job_id)
    with pytest.raises(NotInGallery):
        await gallery.unhide(MODERATOR, job_id)
    assert await audit(database) == []


# -- the public address ----------------------------------------------------------------------------------------------


async def test_a_servers_slug_is_made_once_and_kept(gallery: GalleryService) -> None:
    first = await gallery.settings(GUILD_ID)
    again = await gallery.settings(GUILD_ID)
    assert first == again == Gallery(GUILD_ID, first.slug, public=False, channel_id=None, handle_key="")
    assert len(first.slug) >= 22  # 128 random bits in URL-safe base64


async def test_slugs_are_unique_across_servers(gallery: GalleryService, database: Database) -> None:
    galleries = await asyncio.gather(*(gallery.settings(guild_id) for guild_id in range(1, 51)))
    assert len({found.slug for found in galleries}) == 50
    with pytest.raises(IntegrityError):  # and the database would refuse a second server the same one
        async with database.transaction() as session:
            row = await session.get(GuildSettings, 2)
            assert row is not None
            row.gallery_slug = galleries[0].slug


async def test_a_gallery_is_served_only_while_public(gallery: GalleryService, database: Database) -> None:
    slug = (await gallery.settings(GUILD_ID)).slug
    assert await gallery.public_gallery(slug) is None

    made_public = await gallery.set_public(MODERATOR, True)
    assert await gallery.public_gallery(slug) == Gallery(GUILD_ID, slug, public=True, channel_id=None, handle_key="")
    for unknown in ("", "unknown", slug.upper(), slug + "x", slug[:-1]):
        assert await gallery.public_gallery(unknown) is None

    await gallery.set_public(MODERATOR, False)
    assert await gallery.public_gallery(slug) is None
    assert (made_public.action, made_public.before, made_public.after) == (
        AuditAction.GALLERY_PUBLIC,
        "private",
        "public",
    )
    assert [(action, before, after) for action, _, _, before, after in await audit(database)] == [
        (AuditAction.GALLERY_PUBLIC, "private", "public"),
        (AuditAction.GALLERY_PUBLIC, "public", "private"),
    ]


async def test_a_server_without_settings_has_a_private_gallery(gallery: GalleryService, database: Database) -> None:
    async with database.snapshot() as session:
        assert await session.scalar(select(func.count()).select_from(GuildSettings)) == 0
    await gallery.set_public(MODERATOR, True)  # the first change makes the row and the slug
    public = await gallery.public_gallery((await gallery.settings(GUILD_ID)).slug)
    assert public is not None and public.public


async def test_rotating_the_link_breaks_the_old_address_and_the_creators_handles(
    gallery: GalleryService, database: Database
) -> None:
    await add(database, clip(user_id=A))
    await gallery.set_public(MODERATOR, True)
    old = await gallery.public_gallery((await gallery.settings(GUILD_ID)).slug)
    assert old is not None
    old_handle = creator_handle(old, A)
    assert await gallery.creator_of(old, old_handle) == A

    rotated = await gallery.rotate_link(MODERATOR)

    new = await gallery.settings(GUILD_ID)
    assert new.slug != old.slug and new.public
    assert await gallery.public_gallery(old.slug) is None
    assert await gallery.public_gallery(new.slug) == new
    assert creator_handle(new, A) != old_handle
    assert await gallery.creator_of(new, old_handle) is None
    assert await gallery.creator_of(new, creator_handle(new, A)) == A
    assert (rotated.action, rotated.before, rotated.after) == (AuditAction.GALLERY_LINK, None, None)
    assert new.slug not in repr(await audit(database))  # the audit log never writes an address down


async def test_a_creators_handle_names_only_a_creator_of_a_delivered_clip_there(
    gallery: GalleryService, database: Database
) -> None:
    await insert(
        database,
        clip(user_id=A),
        clip(user_id=B, state=JobState.QUEUED, video=False),
        clip(user_id=C, guild_id=OTHER_GUILD_ID),
    )
    here, there = await gallery.settings(GUILD_ID), await gallery.settings(OTHER_GUILD_ID)

    assert await gallery.creator_of(here, creator_handle(here, A)) == A
    assert await gallery.creator_of(there, creator_handle(there, C)) == C
    for unknown in (creator_handle(here, B), creator_handle(here, C), creator_handle(there, A), "", "0" * 16, "A"):
        assert await gallery.creator_of(here, unknown) is None
    assert creator_handle(here, A) != creator_handle(there, A)


# -- the gallery channel ---------------------------------------------------------------------------------------------


async def test_a_clip_is_cross_posted_once_where_the_server_says(gallery: GalleryService, database: Database) -> None:
    job_id, other = await insert(database, clip(), clip())
    assert await gallery.cross_post_channel(job_id) is None  # no channel set

    channel = await gallery.set_channel(MODERATOR, 555)
    assert await gallery.cross_post_channel(job_id) == 555
    await gallery.record_cross_post(job_id, 555, 777)
    assert await gallery.cross_post_channel(job_id) is None  # posted once already
    assert await gallery.cross_post_channel(other) == 555

    await gallery.set_channel(MODERATOR, None)
    assert await gallery.cross_post_channel(other) is None
    assert (channel.action, channel.before, channel.after) == (AuditAction.GALLERY_CHANNEL, None, "555")
    assert [(before, after) for _, _, _, before, after in await audit(database)] == [(None, "555"), ("555", None)]
    async with database.snapshot() as session:
        row = await session.get(Job, job_id)
        assert row is not None and (row.gallery_post_channel_id, row.gallery_message_id) == (555, 777)


async def test_cross_posts_of_clips_that_left_the_gallery_are_to_be_withdrawn(
    gallery: GalleryService, database: Database
) -> None:
    hidden, deleted, opted_out, staying, own_post = await insert(
        database, clip(), clip(), clip(user_id=B), clip(), clip()
    )
    await gallery.set_channel(MODERATOR, 555)
    for job_id in (hidden, deleted, opted_out, staying):
        await gallery.record_cross_post(job_id, 555, 1000 + job_id)
    async with database.transaction() as session:  # delivered in the gallery channel itself: its post is its own
        await session.execute(update(Job).where(Job.id == own_post).values(message_id=2000))
    await gallery.record_cross_post(own_post, 555, 2000)
    assert await gallery.cross_posts_to_withdraw(GUILD_ID) == ()

    await gallery.hide(MODERATOR, hidden)
    await gallery.delete(GUILD_ID, deleted, A)
    await gallery.opt_out(GUILD_ID, B)
    await gallery.hide(MODERATOR, own_post)
    withdrawn = await gallery.cross_posts_to_withdraw(GUILD_ID)
    assert withdrawn == tuple(CrossPost(job_id, 555, 1000 + job_id) for job_id in (hidden, deleted, opted_out))

    for post in withdrawn:
        await gallery.forget_cross_post(post)
    assert await gallery.cross_posts_to_withdraw(GUILD_ID) == ()
    await gallery.unhide(MODERATOR, hidden)
    assert await gallery.cross_post_channel(hidden) == 555  # back in the gallery: withdrawn, so postable again


async def test_a_clip_out_of_the_gallery_is_not_cross_posted(gallery: GalleryService, database: Database) -> None:
    hidden, opted_out, undelivered, elsewhere = await insert(
        database,
        clip(user_id=A),
        clip(user_id=B),
        clip(user_id=A, state=JobState.RENDERED),
        clip(user_id=A, guild_id=OTHER_GUILD_ID),
    )
    await gallery.set_channel(MODERATOR, 555)
    await gallery.hide(MODERATOR, hidden)
    await gallery.opt_out(GUILD_ID, B)

    for job_id in (hidden, opted_out, undelivered, elsewhere, elsewhere + 1):
        assert await gallery.cross_post_channel(job_id) is None
