"""rate limits move to the `limits` library's store (app/ratelimit.py): drop login_attempt

Sign-in, tracking and complaint attempts were rows of login_attempt, never pruned; they are now
counted in PTSP_RATELIMIT_STORAGE_URL (Redis in production). The rows are not carried over: a
lockout in progress simply ends.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username_at')
        batch_op.drop_index('ix_login_attempt_ip_at')
    op.drop_table('login_attempt')


def downgrade() -> None:
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_username_at', ['username', 'at'], unique=False)
