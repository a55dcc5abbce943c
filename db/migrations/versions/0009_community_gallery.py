"""community gallery: visibility, stars, opt-outs, the servers' gallery settings and the prompt search index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# SQLite's full-text index of the prompts, kept in step with `jobs` by triggers; its rows are the jobs' ids. Other
# databases search with LIKE (db.repositories.gallery) and get none of this.
SEARCH_INDEX = """
CREATE VIRTUAL TABLE gallery_search USING fts5(
    prompt, content='jobs', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
)
"""
SEARCH_TRIGGERS = (
    """CREATE TRIGGER jobs_search_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO gallery_search(rowid, prompt) VALUES (new.id, new.prompt);
    END""",
    """CREATE TRIGGER jobs_search_delete AFTER DELETE ON jobs BEGIN
        INSERT INTO gallery_search(gallery_search, rowid, prompt) VALUES ('delete', old.id, old.prompt);
    END""",
    """CREATE TRIGGER jobs_search_update AFTER UPDATE OF prompt ON jobs BEGIN
        INSERT INTO gallery_search(gallery_search, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        INSERT INTO gallery_search(rowid, prompt) VALUES (new.id, new.prompt);
    END""",
)


def upgrade() -> None:
    # Plain ALTER TABLE, like 0004 to 0008: a batch copy would drop the jobs table the ledger refers to.
    op.add_column("jobs", sa.Column("gallery_hidden_at", sa.DateTime(), nullable=True))
    op.add_column("jobs", sa.Column("gallery_deleted_at", sa.DateTime(), nullable=True))
    op.add_column("jobs", sa.Column("star_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("jobs", sa.Column("gallery_message_id", sa.BigInteger(), nullable=True))
    op.add_column("jobs", sa.Column("gallery_post_channel_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_jobs_gallery_recent", "jobs", ["guild_id", "state", "id"])
    op.create_index("ix_jobs_gallery_top", "jobs", ["guild_id", "state", "star_count", "id"])
    public: sa.Column[bool] = sa.Column("gallery_public", sa.Boolean(), server_default=sa.false(), nullable=False)
    op.add_column("guild_settings", public)
    op.add_column("guild_settings", sa.Column("gallery_slug", sa.String(length=64), nullable=True))
    op.add_column("guild_settings", sa.Column("gallery_handle_key", sa.String(length=64), nullable=True))
    op.add_column("guild_settings", sa.Column("gallery_channel_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_guild_settings_gallery_slug", "guild_settings", ["gallery_slug"], unique=True)
    op.create_table(
        "gallery_stars",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.PrimaryKeyConstraint("job_id", "user_id"),
    )
    op.create_table(
        "gallery_optouts",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SEARCH_INDEX)
        for trigger in SEARCH_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO gallery_search(gallery_search) VALUES ('rebuild')")  # the jobs already there


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("jobs_search_update", "jobs_search_delete", "jobs_search_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE gallery_search")
    op.drop_table("gallery_optouts")
    op.drop_table("gallery_stars")
    op.drop_index("ix_guild_settings_gallery_slug", table_name="guild_settings")
    op.drop_column("guild_settings", "gallery_channel_id")
    op.drop_column("guild_settings", "gallery_handle_key")
    op.drop_column("guild_settings", "gallery_slug")
    op.drop_column("guild_settings", "gallery_public")
    op.drop_index("ix_jobs_gallery_top", table_name="jobs")
    op.drop_index("ix_jobs_gallery_recent", table_name="jobs")
    op.drop_column("jobs", "gallery_post_channel_id")
    op.drop_column("jobs", "gallery_message_id")
    op.drop_column("jobs", "star_count")
    op.drop_column("jobs", "gallery_deleted_at")
    op.drop_column("jobs", "gallery_hidden_at")
