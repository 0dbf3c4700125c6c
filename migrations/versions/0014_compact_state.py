"""engine: workflow state stored compressed; open tasks carry their permit type

Revision ID: 0014
Revises: 0005
Create Date: 2026-12-02
"""
from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # The state: text -> zlib-compressed bytes (rows are rewritten compressed here; the column type
    # also reads any uncompressed value).
    states = bind.execute(sa.text("SELECT id, state FROM process_instance")).all()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE process_instance ALTER COLUMN state TYPE bytea USING convert_to(state, 'UTF8')")
    else:
        with op.batch_alter_table('process_instance', schema=None) as batch_op:
            batch_op.alter_column('state', existing_type=sa.Text(), type_=sa.LargeBinary(), existing_nullable=False)
    table = sa.table('process_instance', sa.column('id', sa.Integer()), sa.column('state', sa.LargeBinary()))
    for row_id, state in states:
        if state:
            bind.execute(table.update().where(table.c.id == row_id)
                         .values(state=zlib.compress(state.encode("utf-8"), 6)))

    # The permit type on each task row, for the worklist's filter without a join.
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_id', sa.String(length=200), nullable=True))
    op.execute("""UPDATE human_task SET process_id = (
                      SELECT process_definition.process_id FROM process_instance
                      JOIN process_definition ON process_definition.id = process_instance.definition_id
                      WHERE process_instance.id = human_task.instance_id)""")
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('process_id', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index('ix_human_task_worklist_type',
                              ['status', 'lane', 'process_id', 'due_at', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_worklist_type')
        batch_op.drop_column('process_id')
    bind = op.get_bind()
    states = bind.execute(sa.text("SELECT id, state FROM process_instance")).all()
    table = sa.table('process_instance', sa.column('id', sa.Integer()), sa.column('state', sa.LargeBinary()))
    for row_id, state in states:
        raw = bytes(state) if state is not None else b""
        if raw[:1] == b"\x78":
            bind.execute(table.update().where(table.c.id == row_id).values(state=zlib.decompress(raw)))
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE process_instance ALTER COLUMN state TYPE text USING convert_from(state, 'UTF8')")
    else:
        with op.batch_alter_table('process_instance', schema=None) as batch_op:
            batch_op.alter_column('state', existing_type=sa.LargeBinary(), type_=sa.Text(), existing_nullable=False)
