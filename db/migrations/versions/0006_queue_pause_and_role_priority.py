"""queue pause and role priority

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE with defaults, like 0004 and 0005: a batch copy would drop the jobs table the ledger refers
    # to. Every server starts unpaused, and every job already there weighs 1, as the fair order had it until now.
    op.add_column("guild_settings", sa.Column("queue_paused", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("jobs", sa.Column("priority_weight", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "role_priorities",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "role_id"),
    )


def downgrade() -> None:
    op.drop_table("role_priorities")
    op.drop_column("jobs", "priority_weight")
    op.drop_column("guild_settings", "queue_paused")
