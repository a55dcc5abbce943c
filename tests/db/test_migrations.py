"""The later migrations applied over a database the /video spine created (revision 0001) keep every row,
and carry what 0001 stored as host paths and sentences over into media keys and failure codes; 0004 credits
the model's authors on the jobs already there; 0009 indexes the prompts already there for the gallery's search, and
comes off and on again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from common.failures import Failure, FailureCode
from db.database import MIGRATIONS_DIR, Database
from jobs.gallery import GalleryQuery, GalleryService
from jobs.media import MediaFiles
from jobs.quota import QuotaDefaults
from jobs.quota_policy import MemberRef, QuotaPolicy
from jobs.views import load_view

GUILD_ID, MEMBER = 111, 1
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def upgrade(connection: Connection) -> None:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return upgrade


JOB_COLUMNS = (
    "state, guild_id, channel_id, user_id, user_name, prompt, negative_prompt, seed, preset_id, frames, width, height, "
    "fps, steps, guidance, max_bytes, cost, model_id, licence, licence_url, created_at"
)


def _fill_like_the_spine(connection: Connection) -> None:
    """Three jobs (delivered, failed and refunded, queued) and their ledger rows, as revision 0001 wrote them,
    and a fourth that failed for a reason no code was made for."""
    for job_id, state in ((1, "delivered"), (2, "failed"), (3, "queued"), (4, "failed")):
        connection.execute(
            text(
                f"INSERT INTO jobs (id, {JOB_COLUMNS}) VALUES (:id, :state, :guild, 2, :user, 'Alice', 'a fox', '', "
                "7, 'tiny', 9, 64, 64, 8, 2, 1.0, 10485760, 1, 'tiny/random', 'Apache-2.0', 'https://x', "
                "'2026-11-25 10:00:00')"
            ),
            {"id": job_id, "state": state, "guild": GUILD_ID, "user": MEMBER},
        )
    for job_id in (1, 2, 3):
        connection.execute(
            text(
                "INSERT INTO credit_ledger (guild_id, user_id, job_id, kind, delta, counts_at, created_at) "
                "VALUES (:guild, :user, :job, 'reserve', -1, '2026-11-25 10:00:00', '2026-11-25 10:00:00')"
            ),
            {"guild": GUILD_ID, "user": MEMBER, "job": job_id},
        )
    connection.execute(
        text("UPDATE jobs SET video_path = '/srv/bot/data/media/1.mp4', poster_path = 'data/media/1.jpg' WHERE id = 1")
    )
    connection.execute(text("UPDATE jobs SET failure_reason = 'the render stopped responding' WHERE id = 2"))
    connection.execute(text("UPDATE jobs SET failure_reason = 'the render failed (RuntimeError: x)' WHERE id = 4"))
    connection.execute(
        text(
            "INSERT INTO credit_ledger (guild_id, user_id, job_id, kind, delta, counts_at, created_at) "
            "VALUES (:guild, :user, 2, 'refund', 1, '2026-11-25 10:00:00', '2026-11-25 10:05:00')"
        ),
        {"guild": GUILD_ID, "user": MEMBER},
    )


async def test_migrating_a_spine_database_keeps_its_jobs_and_credits(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("0001"))
            await connection.run_sync(_fill_like_the_spine)

        await database.migrate()

        async with database.engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            jobs = (await connection.execute(text("SELECT id, state FROM jobs ORDER BY id"))).all()
            ledger = await connection.scalar(text("SELECT count(*) FROM credit_ledger"))
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        policy = QuotaPolicy(database=database, defaults=QuotaDefaults(credits=5), clock=FixedClock())
        standing = await policy.standing(MemberRef(GUILD_ID, MEMBER))
        delivered, stalled, unknown = [await load_view(database, job_id) for job_id in (1, 2, 4)]
    finally:
        await database.dispose()
    assert revision == ScriptDirectory.from_config(_config()).get_current_head()
    assert jobs == [(1, "delivered"), (2, "failed"), (3, "queued"), (4, "failed")]
    assert delivered is not None and delivered.video is not None
    assert (delivered.video.key, delivered.poster_key) == ("media/1.mp4", "media/1.jpg")
    assert stalled is not None and stalled.failure == Failure(FailureCode.WORKER_STALLED)
    assert unknown is not None
    assert unknown.failure == Failure(FailureCode.UNKNOWN, {"text": "the render failed (RuntimeError: x)"})
    assert ledger == 4
    assert {"guild_settings", "role_tiers", "quota_members", "audit_log"} <= set(tables)
    assert standing.credits_left == 3  # two spent, one refunded
    assert standing.active_jobs == 1


async def test_0004_credits_the_authors_of_built_in_presets_and_unknown_for_any_other(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    presets = {1: "wan-1.3b", 2: "ltx", 3: "tiny", 4: "my-own-preset"}
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("0003"))
            for job_id, preset_id in presets.items():
                await connection.execute(
                    text(
                        f"INSERT INTO jobs (id, {JOB_COLUMNS}) VALUES (:id, 'delivered', :guild, 2, :user, 'Alice', "
                        "'a fox', '', 7, :preset, 9, 64, 64, 8, 2, 1.0, 10485760, 1, 'some/repo', 'Apache-2.0', "
                        "'https://x', '2026-11-25 10:00:00')"
                    ),
                    {"id": job_id, "guild": GUILD_ID, "user": MEMBER, "preset": preset_id},
                )

        await database.migrate()

        views = [await load_view(database, job_id) for job_id in presets]
    finally:
        await database.dispose()
    assert [view.authors if view else None for view in views] == [
        "Wan Team, Alibaba Group",
        "Lightricks",
        "promptreel (random weights, for tests and demos)",
        "unknown",
    ]


def _downgrade_to(revision: str) -> Callable[[Connection], None]:
    def downgrade(connection: Connection) -> None:
        config = _config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    return downgrade


def _fill_before_the_gallery(connection: Connection) -> None:
    """Three delivered clips (one of another server) and a failed job, as revision 0008 stored them."""
    prompts = {1: "a fox running through snow", 2: "Café terrace at night", 3: "city lights at night", 4: "a fox"}
    for job_id, prompt in prompts.items():
        connection.execute(
            text(
                f"INSERT INTO jobs (id, {JOB_COLUMNS}, video_key, video_bytes) VALUES (:id, :state, :guild, 2, :user, "
                "'Alice', :prompt, '', 7, 'tiny', 9, 64, 64, 8, 2, 1.0, 10485760, 1, 'tiny/random', 'Apache-2.0', "
                "'https://x', '2026-11-25 10:00:00', :video, 2048)"
            ),
            {
                "id": job_id,
                "state": "failed" if job_id == 4 else "delivered",
                "guild": GUILD_ID + 1 if job_id == 3 else GUILD_ID,
                "user": MEMBER,
                "prompt": prompt,
                "video": None if job_id == 4 else f"media/{job_id}.mp4",
            },
        )


async def _found(gallery: GalleryService, words: str) -> list[int]:
    page = await gallery.page(GalleryQuery(GUILD_ID, words=words), limit=10)
    return [item.job_id for item in page.items]


async def _indexed(database: Database, match: str) -> list[int]:
    async with database.engine.connect() as connection:
        query = text("SELECT rowid FROM gallery_search WHERE gallery_search MATCH :match ORDER BY rowid")
        return list((await connection.scalars(query, {"match": match})).all())


async def test_0009_indexes_the_prompts_already_there_and_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    gallery = GalleryService(database=database, media=MediaFiles(tmp_path), clock=FixedClock())
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("0008"))
            await connection.run_sync(_fill_before_the_gallery)

        await database.migrate()
        found_after_upgrade = [await _found(gallery, words) for words in ("fox", "cafe", "night", "")]
        indexed = await _indexed(database, "fox OR city")

        async with database.engine.begin() as connection:
            await connection.run_sync(_downgrade_to("0008"))
            tables_after_downgrade = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            jobs_after_downgrade = await connection.scalar(text("SELECT count(*) FROM jobs"))
        await database.migrate()
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET prompt = 'a wolf in the snow' WHERE id = 1"))
        found_again = [await _found(gallery, words) for words in ("fox", "wolf", "cafe", "night")]
        async with database.engine.begin() as connection:  # FTS5's own check that the index matches the jobs
            check = "INSERT INTO gallery_search(gallery_search, rank) VALUES ('integrity-check', 1)"
            await connection.execute(text(check))
    finally:
        await database.dispose()
    assert found_after_upgrade == [[1], [2], [2], [2, 1]]
    assert indexed == [1, 3, 4]  # every job's prompt, in the gallery or not
    assert not {"gallery_stars", "gallery_optouts"} & set(tables_after_downgrade)
    assert not [table for table in tables_after_downgrade if table.startswith("gallery_search")]
    assert jobs_after_downgrade == 4
    assert found_again == [[], [1], [2], [2]]
