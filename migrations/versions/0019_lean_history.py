"""engine: a lean history: each event's data stored compressed (when smaller), its chain hashes as
32 bytes instead of 64 hex characters

Existing rows: on PostgreSQL the column conversion turns the hashes into bytes and keeps each detail
as plain JSON bytes (read as such; no pass over every row of a large history); on SQLite each row is
rewritten in the new form. The column types (app/db.py) read both forms.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""
from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("""ALTER TABLE instance_event
                      ALTER COLUMN detail TYPE bytea USING convert_to(detail::text, 'UTF8'),
                      ALTER COLUMN prev_hash TYPE bytea USING decode(prev_hash, 'hex'),
                      ALTER COLUMN row_hash TYPE bytea USING decode(row_hash, 'hex')""")
        return
    rows = bind.execute(sa.text("SELECT id, detail, prev_hash, row_hash FROM instance_event")).all()
    with op.batch_alter_table('instance_event', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.JSON(), type_=sa.LargeBinary(), existing_nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(64), type_=sa.LargeBinary(), existing_nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(64), type_=sa.LargeBinary(), existing_nullable=False)
    table = sa.table('instance_event', sa.column('id', sa.Integer()), sa.column('detail', sa.LargeBinary()),
                     sa.column('prev_hash', sa.LargeBinary()), sa.column('row_hash', sa.LargeBinary()))
    for row_id, detail, prev, digest in rows:
        raw = detail.encode("utf-8") if isinstance(detail, str) else bytes(detail)
        packed = zlib.compress(raw, 9)
        bind.execute(table.update().where(table.c.id == row_id).values(
            detail=packed if len(packed) < len(raw) else raw, prev_hash=bytes.fromhex(prev),
            row_hash=bytes.fromhex(digest)))


def _hex(value: bytes | str) -> str:
    return value if isinstance(value, str) else bytes(value).hex()  # SQLite keeps rows written before as text


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    # Every detail back to plain JSON; on SQLite the hashes back to hex text too (PostgreSQL's
    # column conversion below does that itself).
    binary = sa.table('instance_event', sa.column('id', sa.Integer()), sa.column('detail', sa.LargeBinary()))
    texts = sa.table('instance_event', sa.column('id', sa.Integer()), sa.column('detail', sa.Text()),
                     sa.column('prev_hash', sa.String()), sa.column('row_hash', sa.String()))
    for row_id, detail, prev, digest in bind.execute(
            sa.text("SELECT id, detail, prev_hash, row_hash FROM instance_event")).all():
        raw = detail.encode() if isinstance(detail, str) else bytes(detail)
        plain = zlib.decompress(raw) if raw[:1] == b"\x78" else raw
        if postgresql:
            bind.execute(binary.update().where(binary.c.id == row_id).values(detail=plain))
        else:
            bind.execute(texts.update().where(texts.c.id == row_id).values(
                detail=plain.decode("utf-8"), prev_hash=_hex(prev), row_hash=_hex(digest)))
    if bind.dialect.name == "postgresql":
        op.execute("""ALTER TABLE instance_event
                      ALTER COLUMN detail TYPE json USING convert_from(detail, 'UTF8')::json,
                      ALTER COLUMN prev_hash TYPE varchar(64) USING encode(prev_hash, 'hex'),
                      ALTER COLUMN row_hash TYPE varchar(64) USING encode(row_hash, 'hex')""")
        return
    with op.batch_alter_table('instance_event', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.LargeBinary(), type_=sa.JSON(), existing_nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(), type_=sa.String(64), existing_nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.LargeBinary(), type_=sa.String(64), existing_nullable=False)
