"""the requester's locale on each job

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, like 0004 to 0008 (a batch copy would drop the table the ledger refers to). Jobs already
    # there were written in English, so that is what they keep.
    op.add_column("jobs", sa.Column("locale", sa.String(16), server_default="en-US", nullable=False))


def downgrade() -> None:
    op.drop_column("jobs", "locale")
