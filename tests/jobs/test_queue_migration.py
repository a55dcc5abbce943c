"""Migration 0006 over a database of revision 0005: the jobs already queued weigh 1 and the servers already
configured are not paused, so the queue serves them exactly as it did before the upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from db.database import MIGRATIONS_DIR, Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.jobs import JobRepository

GUILD_ID, OTHER_GUILD_ID = 111, 333
JOB_COLUMNS = (
    "state, guild_id, channel_id, user_id, user_name, prompt, negative_prompt, seed, preset_id, frames, width, height, "
    "fps, steps, guidance, max_bytes, cost, model_id, licence, licence_url, authors, created_at"
)


def _fill_at_0005(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "0005")
    # Member 1 has two jobs queued, member 2 one: the fair order is 1, 3, 2.
    for job_id, user_id in ((1, 1), (2, 1), (3, 2)):
        connection.execute(
            text(
                f"INSERT INTO jobs (id, {JOB_COLUMNS}) VALUES (:id, 'queued', :guild, 2, :user, 'Alice', 'a fox', '', "
                "7, 'tiny', 9, 64, 64, 8, 2, 1.0, 10485760, 1, 'tiny/random', 'Apache-2.0', 'https://x', 'someone', "
                "'2026-11-25 10:00:00')"
            ),
            {"id": job_id, "guild": GUILD_ID, "user": user_id},
        )
    connection.execute(
        text("INSERT INTO guild_settings (guild_id, window, reset_hour) VALUES (:guild, 'daily', 0)"),
        {"guild": GUILD_ID},
    )


async def test_0006_keeps_the_queue_as_it_was(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_fill_at_0005)

        await database.migrate()

        async with database.transaction() as session:
            weights = (await session.execute(text("SELECT priority_weight FROM jobs ORDER BY id"))).scalars().all()
            paused = await GuildSettingsRepository(session).paused_of((GUILD_ID, OTHER_GUILD_ID))
            jobs = JobRepository(session)
            positions = await jobs.positions((1, 2, 3))
            first = await jobs.next_queued()
            # A server configured before 0006 pauses like any other.
            assert await GuildSettingsRepository(session).set_paused(GUILD_ID, paused=True)
            none_while_paused = await jobs.next_queued()
    finally:
        await database.dispose()
    assert weights == [1, 1, 1]
    assert paused == frozenset()
    assert positions == {1: 1, 3: 2, 2: 3}
    assert first is not None and first.id == 1
    assert none_while_paused is None
