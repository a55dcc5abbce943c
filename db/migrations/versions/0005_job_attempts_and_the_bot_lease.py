"""job attempts and the single-instance bot lease

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE with a default, like 0004: a batch copy would drop the jobs table the ledger refers to.
    op.add_column("jobs", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    lease = op.create_table(
        "bot_lease",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # Its one row exists from the start, so taking the lease is always one conditional UPDATE.
    op.bulk_insert(lease, [{"id": 1, "holder": None, "expires_at": None}])


def downgrade() -> None:
    op.drop_table("bot_lease")
    op.drop_column("jobs", "attempts")
