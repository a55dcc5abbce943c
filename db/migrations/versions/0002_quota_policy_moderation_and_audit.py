"""quota policy, moderation and audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:36:20.345413
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.Enum('set_default', 'set_role', 'set_member', 'grant', 'reset', 'window', 'ban', 'unban', 'moderator_role', name='audit_action', native_enum=False, length=32), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=True),
    sa.Column('before', sa.String(length=200), nullable=True),
    sa.Column('after', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_guild_id', ['guild_id', 'id'], unique=False)

    op.create_table('guild_settings',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('default_credits', sa.Integer(), nullable=True),
    sa.Column('window', sa.Enum('daily', 'rolling', name='window_kind', native_enum=False, length=16), nullable=False),
    sa.Column('reset_hour', sa.Integer(), nullable=False),
    sa.Column('moderator_role_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('guild_id')
    )
    op.create_table('quota_members',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('credits_override', sa.Integer(), nullable=True),
    sa.Column('banned', sa.Boolean(), nullable=False),
    sa.Column('ban_reason', sa.String(length=200), nullable=True),
    sa.Column('last_submission_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('guild_id', 'user_id')
    )
    op.create_table('role_tiers',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('role_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('unlimited', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('guild_id', 'role_id')
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_member_counts_at')
        batch_op.create_index('ix_ledger_member_window', ['guild_id', 'user_id', 'counts_at', 'delta'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_member_window')
        batch_op.create_index('ix_ledger_member_counts_at', ['guild_id', 'user_id', 'counts_at'], unique=False)

    op.drop_table('role_tiers')
    op.drop_table('quota_members')
    op.drop_table('guild_settings')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_guild_id')

    op.drop_table('audit_log')
