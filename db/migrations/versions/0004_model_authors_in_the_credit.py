"""model authors in the credit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UNKNOWN = "unknown"
# The built-in presets' authors when this revision was written (model/presets.py; a migration never
# imports application code). A job of any other preset, from a presets file, keeps UNKNOWN.
BUILT_IN_AUTHORS = {
    "wan-1.3b": "Wan Team, Alibaba Group",
    "wan-14b": "Wan Team, Alibaba Group",
    "ltx": "Lightricks",
    "cogvideox-2b": "Zhipu AI and Tsinghua University (THUDM)",
    "tiny": "promptreel (random weights, for tests and demos)",
}

jobs = sa.table("jobs", sa.column("preset_id", sa.String()), sa.column("authors", sa.String()))


def upgrade() -> None:
    # SQLite adds a NOT NULL column to a table with rows only with a default, and drops a default only
    # by copying the table, which would drop the jobs table the ledger's foreign key refers to (see 0003):
    # the default stays, and db/models.py declares it too.
    op.add_column("jobs", sa.Column("authors", sa.String(length=200), server_default=UNKNOWN, nullable=False))
    for preset_id, authors in BUILT_IN_AUTHORS.items():
        op.execute(sa.update(jobs).where(jobs.c.preset_id == preset_id).values(authors=authors))


def downgrade() -> None:
    op.drop_column("jobs", "authors")
