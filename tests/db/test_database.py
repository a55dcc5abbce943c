from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from db.database import Database
from db.models import Base, schema_names


async def test_migrate_creates_the_schema_in_wal_mode_and_is_idempotent(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'bot.db'}")
    try:
        await database.migrate()
        await database.migrate()
        async with database.engine.connect() as connection:
            journal_mode = await connection.scalar(text("PRAGMA journal_mode"))
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await database.dispose()
    assert journal_mode == "wal"
    assert {"jobs", "credit_ledger", "alembic_version"} <= set(tables)
    assert revision is not None


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    """A model change without a migration fails here (write one with scripts/new_migration.py)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")

    def differences(connection: Connection) -> list[object]:
        return list(
            compare_metadata(MigrationContext.configure(connection, opts={"include_name": schema_names}), Base.metadata)
        )

    try:
        await database.migrate()
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await database.dispose()
    assert diff == []


async def test_a_snapshot_reads_while_a_writer_holds_the_lock_and_writers_wait_for_writers(tmp_path: Path) -> None:
    """Admission's ticket positions are read in a snapshot, so they never queue behind the next batch's write."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await database.migrate()
        async with database.transaction() as writer:
            await writer.execute(text("UPDATE alembic_version SET version_num = version_num"))
            async with asyncio.timeout(2):  # far below the 10 s busy timeout a second writer would wait
                async with database.snapshot() as reader:
                    assert await reader.scalar(text("SELECT count(*) FROM jobs")) == 0
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    async with database.transaction() as second_writer:
                        await second_writer.execute(text("SELECT 1"))
    finally:
        await database.dispose()
