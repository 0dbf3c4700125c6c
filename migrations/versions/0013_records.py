"""records: hash-chained history and audit, integrity checks, personal data access log,
attachment retention, signed permit PDFs

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-02
"""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime
from app.chain import AUDIT_CHAIN, GENESIS, audit_content, history_content, link_hash

revision = '0013'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_head',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_chain_head'))
    )
    op.create_table('integrity_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('links_checked', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_check'))
    )
    with op.batch_alter_table('integrity_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_check_at'), ['at'], unique=False)
    op.create_table('personal_data_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['application_file.id'],
                            name=op.f('fk_personal_data_access_file_id_application_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access'))
    )
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_access_actor', ['actor', 'at'], unique=False)
        batch_op.create_index('ix_personal_data_access_file', ['file_id', 'at'], unique=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_pdf_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('history_head', sa.String(length=64), server_default=GENESIS, nullable=False))
    for table in ('instance_event', 'audit_entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.alter_column('file_id', existing_type=sa.Integer(), nullable=True)
    _backfill(op.get_bind())
    for table in ('instance_event', 'audit_entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in (('seq', sa.Integer()), ('prev_hash', sa.String(length=64)),
                               ('row_hash', sa.String(length=64))):
                batch_op.alter_column(name, existing_type=kind, nullable=False)
    with op.batch_alter_table('instance_event', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_instance_event_instance_id'), ['instance_id', 'seq'])
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_seq'), ['seq'])


def _backfill(bind: sa.engine.Connection) -> None:
    """Chain the rows written before the chains existed, in the order they were written."""
    events = sa.table('instance_event', sa.column('id', sa.Integer), sa.column('instance_id', sa.Integer),
                      sa.column('at', UTCDateTime), sa.column('kind', sa.String), sa.column('task_name', sa.String),
                      sa.column('actor', sa.String), sa.column('detail', sa.JSON), sa.column('seq', sa.Integer),
                      sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
    instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('history_seq', sa.Integer),
                         sa.column('history_head', sa.String))
    heads: dict[int, tuple[int, str]] = {}
    rows = bind.execute(sa.select(events).order_by(events.c.instance_id, events.c.at, events.c.id)).mappings()
    for row in list(rows):
        seq, prev = heads.get(row['instance_id'], (0, GENESIS))
        link = SimpleNamespace(**{**row, 'seq': seq + 1})
        digest = link_hash(prev, history_content(link))
        bind.execute(events.update().where(events.c.id == row['id']).values(seq=seq + 1, prev_hash=prev, row_hash=digest))
        heads[row['instance_id']] = (seq + 1, digest)
    for instance_id, (seq, digest) in heads.items():
        bind.execute(instances.update().where(instances.c.id == instance_id).values(history_seq=seq, history_head=digest))

    audit = sa.table('audit_entry', sa.column('id', sa.Integer), sa.column('at', UTCDateTime),
                     sa.column('actor', sa.String), sa.column('action', sa.String),
                     sa.column('subject_type', sa.String), sa.column('subject_id', sa.String),
                     sa.column('detail', sa.JSON), sa.column('seq', sa.Integer),
                     sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
    seq, prev = 0, GENESIS
    for row in list(bind.execute(sa.select(audit).order_by(audit.c.id)).mappings()):
        seq += 1
        digest = link_hash(prev, audit_content(SimpleNamespace(**{**row, 'seq': seq})))
        bind.execute(audit.update().where(audit.c.id == row['id']).values(seq=seq, prev_hash=prev, row_hash=digest))
        prev = digest
    if seq:
        heads_table = sa.table('chain_head', sa.column('name', sa.String), sa.column('seq', sa.Integer),
                               sa.column('row_hash', sa.String))
        bind.execute(heads_table.insert().values(name=AUDIT_CHAIN, seq=seq, row_hash=prev))


def downgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_seq'), type_='unique')
    with op.batch_alter_table('instance_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_instance_event_instance_id'), type_='unique')
    for table in ('instance_event', 'audit_entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('row_hash')
            batch_op.drop_column('prev_hash')
            batch_op.drop_column('seq')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('history_head')
        batch_op.drop_column('history_seq')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.alter_column('file_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_column('signed_pdf_sha256')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_access_file')
        batch_op.drop_index('ix_personal_data_access_actor')
    op.drop_table('personal_data_access')
    with op.batch_alter_table('integrity_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_check_at'))
    op.drop_table('integrity_check')
    op.drop_table('chain_head')
