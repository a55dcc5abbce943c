"""One migrated SQLite database per test session, copied for each test that needs a fresh one: migrating costs about
a quarter second, a copy a millisecond. Tests of the migrations themselves migrate their own."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from db.database import Database


@dataclass
class TemplateDatabase:
    path: Path
    ready: bool = False

    async def copy_to(self, path: Path) -> Database:
        """A database at `path`, migrated to the newest revision."""
        if not self.ready:  # here, not in the fixture: a session fixture has no event loop of its own to migrate in
            template = Database(f"sqlite+aiosqlite:///{self.path}")
            await template.migrate()
            await template.dispose()  # the last connection's close folds the WAL into the file
            self.ready = True
        shutil.copyfile(self.path, path)
        return Database(f"sqlite+aiosqlite:///{path}")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> TemplateDatabase:
    return TemplateDatabase(tmp_path_factory.mktemp("template") / "bot.db")
