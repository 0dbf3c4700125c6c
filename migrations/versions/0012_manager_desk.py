"""manager desk: satisfaction survey (SKM) answers and the files that answered

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0005'
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


def downgrade() -> None:
    op.drop_table('skm_token_use')
    with op.batch_alter_table('skm_response', schema=None) as batch_op:
        batch_op.drop_index('ix_skm_response_answered_on_process')
    op.drop_table('skm_response')
