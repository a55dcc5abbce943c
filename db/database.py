"""The one place that owns the engine, the session factory and migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
READ_ONLY = "promptreel_read_only"
"""An execution option: this connection's transaction only reads (see Database.snapshot)."""


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            _create_parent_dir(self.url.database)
        self.engine: AsyncEngine = create_async_engine(self.url)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._watcher: sqlite3.Connection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error.

        On SQLite the transaction takes the write lock at BEGIN (BEGIN IMMEDIATE), so a
        read-check-write such as a quota reservation cannot interleave with another.
        """
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only. On SQLite its transaction begins deferred, so in WAL mode it reads a
        consistent snapshot without taking the write lock: it neither waits for writers nor holds them up."""
        async with self.sessions() as session, session.begin():
            await session.connection(execution_options={READ_ONLY: True})
            yield session

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)

    def data_version(self) -> int | None:
        """A number that changes whenever anyone, this process or another, commits a change to the database; None
        where that cannot be known (not an SQLite file). Cheap enough to ask on every web request (microseconds:
        SQLite reads it from its shared memory), so a reader can reuse what it read while it stays the same.

        Read on one connection of its own that never writes (SQLite's `PRAGMA data_version` counts the commits of
        every other connection)."""
        path = _file_of(self.url.database) if self.is_sqlite else None
        if path is None:
            return None
        if self._watcher is None:
            uri = f"{Path(path).resolve().as_uri()}?mode=ro"
            self._watcher = sqlite3.connect(uri, uri=True, check_same_thread=False)
        row = self._watcher.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    async def dispose(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        await self.engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _file_of(database: str | None) -> str | None:
    """The SQLite database's file; None for an in-memory database or one named by a URI."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _create_parent_dir(database: str | None) -> None:
    path = _file_of(database)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",  # readers never block the writer
            "synchronous=NORMAL",  # durable across a process crash in WAL mode
            "foreign_keys=ON",
            "busy_timeout=10000",  # wait for the write lock instead of failing at once
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
