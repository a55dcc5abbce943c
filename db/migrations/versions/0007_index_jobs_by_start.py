"""index jobs by their start

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:10:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The fair order counts the jobs each member started while the longest-waiting job waited.
    op.create_index("ix_jobs_started_at", "jobs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_started_at", table_name="jobs")
