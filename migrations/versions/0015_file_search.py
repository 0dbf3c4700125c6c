"""files: finding files by name, number and NIK; the files list's indexes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TERM = sa.String(60).with_variant(sa.String(60, collation="C"), "postgresql")


def _terms(name: str) -> list[str]:
    # The same folding as app.files.search.name_terms at the time of writing (a migration
    # must not change when the application code does).
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    words: list[str] = []
    for word in re.split(r"[^a-z0-9]+", folded):
        if len(word) >= 2 and word[:60] not in words:
            words.append(word[:60])
    return words[:12]


def upgrade() -> None:
    op.create_table(
        'file_search_term',
        sa.Column('term', TERM, nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['application_file.id'], ondelete='CASCADE',
                                name=op.f('fk_file_search_term_file_id_application_file')),
        sa.PrimaryKeyConstraint('term', 'file_id', name=op.f('pk_file_search_term')),
    )
    with op.batch_alter_table('file_search_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_search_term_file_id'), ['file_id'], unique=False)
        batch_op.create_index('ix_file_search_term_term_created', ['term', 'created_at', 'file_id'], unique=False)
    with op.batch_alter_table('application_file', schema=None) as batch_op:
        batch_op.create_index('ix_application_file_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_application_file_process_created', ['process_id', 'created_at'], unique=False)
        batch_op.create_index('ix_application_file_sla_state_created', ['sla_state', 'created_at'], unique=False)

    bind = op.get_bind()
    files = bind.execute(sa.text("SELECT id, applicant_name, created_at FROM application_file")).all()
    rows = [{"term": t, "file_id": fid, "created_at": at} for fid, name, at in files for t in _terms(name or "")]
    if rows:
        bind.execute(sa.text("INSERT INTO file_search_term (term, file_id, created_at) "
                             "VALUES (:term, :file_id, :created_at)"), rows)


def downgrade() -> None:
    with op.batch_alter_table('application_file', schema=None) as batch_op:
        batch_op.drop_index('ix_application_file_sla_state_created')
        batch_op.drop_index('ix_application_file_process_created')
        batch_op.drop_index('ix_application_file_created_at')
    op.drop_table('file_search_term')
