"""manager desk: satisfaction survey (SKM) answers, the files that answered, dashboard rollups

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0015'
branch_labels = None
depends_on = None

ELEMENTS = ("requirements", "procedure", "time", "cost", "product", "competence", "behaviour",
            "complaints", "facilities")


def upgrade() -> None:
    op.create_table('skm_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    *(sa.Column(f'u_{name}', sa.SmallInteger(), nullable=False) for name in ELEMENTS),
    sa.Column('suggestion', sa.Text(), nullable=True),
    *(sa.CheckConstraint(f'u_{name} BETWEEN 1 AND 4', name=op.f(f'ck_skm_response_u_{name}_score')) for name in ELEMENTS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skm_response'))
    )
    with op.batch_alter_table('skm_response', schema=None) as batch_op:
        batch_op.create_index('ix_skm_response_answered_on_process', ['answered_on', 'process_id'], unique=False)

    op.create_table('skm_token_use',
    sa.Column('file_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['application_file.id'], name=op.f('fk_skm_token_use_file_id_application_file'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_skm_token_use'))
    )

    op.create_table('desk_file_rollup',
    sa.Column('file_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('finished_on', sa.Date(), nullable=True),
    sa.Column('working_days', sa.Float(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('fee_assessed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fee_paid', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['application_file.id'], name=op.f('fk_desk_file_rollup_file_id_application_file'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_desk_file_rollup'))
    )
    with op.batch_alter_table('desk_file_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_desk_file_rollup_received', ['received_on', 'process_id'], unique=False)
        batch_op.create_index('ix_desk_file_rollup_finished', ['finished_on', 'process_id'], unique=False)

    op.create_table('desk_step_rollup',
    sa.Column('task_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('task_name', sa.String(length=200), nullable=False),
    sa.Column('lane', sa.String(length=100), nullable=False),
    sa.Column('completed_by', sa.String(length=100), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('working_days', sa.Float(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_desk_step_rollup'))
    )
    with op.batch_alter_table('desk_step_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_desk_step_rollup_completed', ['completed_on', 'process_id'], unique=False)

    op.create_table('desk_day_rollup',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('finished', sa.Integer(), nullable=False),
    sa.Column('with_clock', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('fee_assessed', sa.BigInteger(), nullable=False),
    sa.Column('fee_paid', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'process_id', name=op.f('pk_desk_day_rollup'))
    )
    op.create_table('desk_monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_monthly_report'))
    )
    op.create_table('desk_rollup_mark',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_desk_rollup_mark'))
    )
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_completed_at', ['completed_at'], unique=False)
    with op.batch_alter_table('application_file', schema=None) as batch_op:
        batch_op.create_index('ix_application_file_open_sla', ['sla_stopped_at', 'sla_state', 'process_id'], unique=False)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_answered_at', ['answered_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_answered_at')
    with op.batch_alter_table('application_file', schema=None) as batch_op:
        batch_op.drop_index('ix_application_file_open_sla')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_at')
    op.drop_table('desk_rollup_mark')
    op.drop_table('desk_monthly_report')
    op.drop_table('desk_day_rollup')
    op.drop_table('desk_step_rollup')
    op.drop_table('desk_file_rollup')
    op.drop_table('skm_token_use')
    with op.batch_alter_table('skm_response', schema=None) as batch_op:
        batch_op.drop_index('ix_skm_response_answered_on_process')
    op.drop_table('skm_response')
