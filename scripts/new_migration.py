"""Write a new Alembic revision by comparing db/models.py with the schema at head.

python scripts/new_migration.py "add quota tables"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from db.database import MIGRATIONS_DIR, Database


def _autogenerate(connection: Connection, message: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


async def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}")
        await database.migrate()
        async with database.engine.begin() as connection:
            await connection.run_sync(_autogenerate, message)
        await database.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1]))
