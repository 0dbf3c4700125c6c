"""manager desk at scale: duration histograms per day and step, steps completed per day and officer,
an exact "rolled up" flag on completed steps (instead of a time window)

The existing rollup rows are emptied: the beat task rebuilds them, and the new tables, from the
history on its next runs (every completed step starts as not rolled up).

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None

TO_ROLL_UP = "status = 'completed' AND NOT rolled_up"


def upgrade() -> None:
    op.create_table('desk_duration_bucket',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'process_id', 'kind', 'name', 'bucket', name=op.f('pk_desk_duration_bucket'))
    )
    op.create_table('desk_work_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('lane', sa.String(length=100), nullable=False),
    sa.Column('officer', sa.String(length=100), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'process_id', 'lane', 'officer', name=op.f('pk_desk_work_day'))
    )
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_up', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_human_task_to_roll_up', 'human_task', ['id'], unique=False,
                    postgresql_where=sa.text(TO_ROLL_UP), sqlite_where=sa.text(TO_ROLL_UP))
    for table in ('desk_step_rollup', 'desk_file_rollup', 'desk_day_rollup', 'desk_rollup_mark'):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_index('ix_human_task_to_roll_up', table_name='human_task')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('rolled_up')
    op.drop_table('desk_work_day')
    op.drop_table('desk_duration_bucket')
