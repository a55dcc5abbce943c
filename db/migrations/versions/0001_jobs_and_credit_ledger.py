"""jobs and credit ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:56:19.288352
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'rendered', 'delivered', 'failed', 'cancelled', name='job_state', native_enum=False, length=16), nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('channel_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('negative_prompt', sa.Text(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('preset_id', sa.String(length=64), nullable=False),
    sa.Column('frames', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('fps', sa.Integer(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('guidance', sa.Float(), nullable=False),
    sa.Column('max_bytes', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('licence', sa.String(length=100), nullable=False),
    sa.Column('licence_url', sa.String(length=300), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('video_path', sa.Text(), nullable=True),
    sa.Column('poster_path', sa.Text(), nullable=True),
    sa.Column('video_bytes', sa.Integer(), nullable=True),
    sa.Column('render_seconds', sa.Float(), nullable=True),
    sa.Column('encode_seconds', sa.Float(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_member', ['guild_id', 'user_id', 'state'], unique=False)
        batch_op.create_index('ix_jobs_state_id', ['state', 'id'], unique=False)

    op.create_table('credit_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('reserve', 'refund', name='ledger_kind', native_enum=False, length=16), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('counts_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'kind', name='uq_ledger_job_kind')
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_member_counts_at', ['guild_id', 'user_id', 'counts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_member_counts_at')

    op.drop_table('credit_ledger')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_id')
        batch_op.drop_index('ix_jobs_member')

    op.drop_table('jobs')
