"""cancel requests and render starts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, like 0004 to 0006: a batch copy would drop the jobs table the ledger refers to. Both are
    # nullable: a job already there has no cancel request on record, and a running one is taken as not yet started.
    op.add_column("jobs", sa.Column("render_started_at", sa.DateTime(), nullable=True))
    op.add_column("jobs", sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "cancel_requested_at")
    op.drop_column("jobs", "render_started_at")
