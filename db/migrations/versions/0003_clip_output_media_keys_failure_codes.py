"""what the encoder wrote, media keys relative to DATA_DIR, failure codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:00:00
"""

import posixpath

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MEDIA_FOLDER = "media"
# Sentences earlier versions stored, and the code each meant; any other becomes "unknown" and
# keeps its sentence as the `text` detail.
KNOWN_REASONS = {
    "cancelled": "cancelled",
    "the render worker was shut down": "worker_shut_down",
    "the render stopped responding": "worker_stalled",
}

jobs = sa.table(
    "jobs",
    sa.column("id", sa.Integer()),
    sa.column("failure_reason", sa.Text()),
    sa.column("failure_code", sa.String()),
    sa.column("failure_details", sa.JSON()),
    sa.column("video_path", sa.Text()),
    sa.column("poster_path", sa.Text()),
    sa.column("video_key", sa.String()),
    sa.column("poster_key", sa.String()),
)


def upgrade() -> None:
    # Plain ALTER TABLE, no batch copy: a copy would drop the jobs table the ledger's foreign key
    # refers to. SQLite has dropped columns in place since 3.35 (Debian bookworm ships 3.40).
    op.add_column("jobs", sa.Column("failure_code", sa.String(length=32), nullable=True))
    op.add_column("jobs", sa.Column("failure_details", sa.JSON(), nullable=True))
    op.add_column("jobs", sa.Column("video_key", sa.String(length=200), nullable=True))
    op.add_column("jobs", sa.Column("video_width", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("video_height", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("video_frames", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("video_fps", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("poster_key", sa.String(length=200), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.select(jobs.c.id, jobs.c.failure_reason, jobs.c.video_path, jobs.c.poster_path))
    for job_id, reason, video_path, poster_path in rows.all():
        values: dict[str, object] = {"video_key": _key(video_path), "poster_key": _key(poster_path)}
        if reason is not None:
            code = KNOWN_REASONS.get(reason)
            values["failure_code"] = code or "unknown"
            values["failure_details"] = {} if code else {"text": reason}
        connection.execute(sa.update(jobs).where(jobs.c.id == job_id).values(**values))

    for column in ("failure_reason", "video_path", "poster_path"):
        op.drop_column("jobs", column)


def downgrade() -> None:
    raise NotImplementedError("0003 keeps no copy of the host paths it replaced; restore a backup instead")


def _key(path: str | None) -> str | None:
    """A stored host path (data/media/12.mp4, or absolute) as its key under DATA_DIR."""
    if path is None:
        return None
    return f"{MEDIA_FOLDER}/{posixpath.basename(path.replace(chr(92), '/'))}"
