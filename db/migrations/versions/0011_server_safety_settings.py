"""server safety settings: where /video may be used, the blocklist, sensitive presets, disabled presets, maxima

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, like 0004 to 0010. Every server starts as it was: /video anywhere, no blocklist, no
    # sensitive preset allowed (none was marked sensitive before), every preset on, no maxima of its own.
    op.add_column(
        "guild_settings", sa.Column("default_blocklist", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "guild_settings", sa.Column("sensitive_presets", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("guild_settings", sa.Column("max_duration_seconds", sa.Integer(), nullable=True))
    op.add_column("guild_settings", sa.Column("max_steps", sa.Integer(), nullable=True))
    op.create_table(
        "video_channels",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "channel_id"),
    )
    op.create_table(
        "blocked_terms",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "key"),
    )
    op.create_table(
        "disabled_presets",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("preset_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "preset_id"),
    )


def downgrade() -> None:
    op.drop_table("disabled_presets")
    op.drop_table("blocked_terms")
    op.drop_table("video_channels")
    op.drop_column("guild_settings", "max_steps")
    op.drop_column("guild_settings", "max_duration_seconds")
    op.drop_column("guild_settings", "sensitive_presets")
    op.drop_column("guild_settings", "default_blocklist")
