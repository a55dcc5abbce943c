from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from db.database import Database
from db.models import Base


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
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    try:
        await database.migrate()
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await database.dispose()
    assert diff == []
