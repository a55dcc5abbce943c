"""Alembic environment: always run on a connection handed over by db.database.Database.migrate()."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from db.models import Base, schema_names
from db.types import UTCDateTime


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations store UTCDateTime as a plain DateTime so they never import application code.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only ALTER through table copies
    render_item=render_item,
    include_name=schema_names,  # the search index is SQL of its own, not a model
)
with context.begin_transaction():
    context.run_migrations()
