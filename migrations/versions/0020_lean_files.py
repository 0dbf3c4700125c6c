"""a lean finished file: its final data packed against its history; worklist and SLA indexes over open
steps and running files only, indexes that repeated another's first column dropped

A finished instance's final data (``{"final_data": ...}``, zlib-compressed) is stored packed with its
history's details as the compression dictionary (app/engine/final_state.py); downgrade unpacks it.

Indexes (a finished file's rows then add no entries to them):
- the worklist's four human_task indexes cover open steps only (``WHERE status = 'open'``, lane first);
- the sweeps' and timers' indexes cover only rows with a next check / a due timer, the open-files
  index only files whose clock has not stopped;
- dropped, another index starting with the same columns serves their queries:
  ``ix_human_task_instance_id`` and ``ix_instance_event_instance_id`` (the unique constraints
  (instance_id, task_guid) and (instance_id, seq)), ``ix_human_task_open_lane`` (the open steps of
  some lanes, oldest first, are sorted after the read whatever the index: any open-steps index
  starting with lane serves them).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""
from __future__ import annotations

import json
import zlib

import sqlalchemy as sa
from alembic import op

from app.engine.final_state import pack, packed_upto, unpack

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_OPEN = "status = 'open'"
# (table, index, old columns, new columns, new condition)
_PARTIAL = [
    ("human_task", "ix_human_task_worklist", ["status", "lane", "due_at", "created_at", "id"],
     ["lane", "due_at", "created_at", "id"], _OPEN),
    ("human_task", "ix_human_task_worklist_step", ["status", "lane", "task_name", "due_at", "created_at", "id"],
     ["lane", "task_name", "due_at", "created_at", "id"], _OPEN),
    ("human_task", "ix_human_task_worklist_type", ["status", "lane", "process_id", "due_at", "created_at", "id"],
     ["lane", "process_id", "due_at", "created_at", "id"], _OPEN),
    ("human_task", "ix_human_task_sla_next_check_at", ["sla_next_check_at"], ["sla_next_check_at"],
     "sla_next_check_at IS NOT NULL"),
    ("application_file", "ix_application_file_sla_next_check_at", ["sla_next_check_at"], ["sla_next_check_at"],
     "sla_next_check_at IS NOT NULL"),
    ("application_file", "ix_application_file_open_sla", ["sla_stopped_at", "sla_state", "process_id"],
     ["sla_state", "process_id"], "sla_stopped_at IS NULL"),
    ("process_instance", "ix_process_instance_due_timer", ["next_timer_at"], ["next_timer_at"],
     "next_timer_at IS NOT NULL"),
]
_REDUNDANT = [("human_task", "ix_human_task_open_lane", ["status", "lane", "created_at"]),
              ("human_task", "ix_human_task_instance_id", ["instance_id"]),
              ("instance_event", "ix_instance_event_instance_id", ["instance_id"])]


_PACKED = b"\x00"  # app.db.CompressedText's marker of a value packed by its writer
_FINAL = '{"final_data": '
_STATE = sa.table('process_instance', sa.column('id', sa.Integer()), sa.column('state', sa.LargeBinary()))


def _raw(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _finished_states() -> list[tuple[int, bytes]]:
    rows = op.get_bind().execute(sa.text("SELECT id, state FROM process_instance WHERE status = 'completed'"))
    return [(row_id, _raw(state)) for row_id, state in rows]


def _details(instance_id: int, upto: int) -> list[object]:
    rows = op.get_bind().execute(sa.text(
        "SELECT detail FROM instance_event WHERE instance_id = :i AND seq <= :upto ORDER BY seq"),
        {"i": instance_id, "upto": upto})
    return [json.loads(zlib.decompress(raw) if raw[:1] == b"\x78" else raw) for raw in (_raw(d) for d, in rows)]


def _pack_finished() -> None:
    bind = op.get_bind()
    for instance_id, raw in _finished_states():
        text = zlib.decompress(raw).decode("utf-8") if raw[:1] == b"\x78" else None
        if text is None or not text.startswith(_FINAL):  # packed already, or a whole state kept from before
            continue
        upto = bind.execute(sa.text("SELECT history_seq FROM process_instance WHERE id = :i"), {"i": instance_id}).scalar()
        packed = pack(text, int(upto or 0), _details(instance_id, int(upto or 0)))
        bind.execute(_STATE.update().where(_STATE.c.id == instance_id).values(state=_PACKED + packed))


def _unpack_finished() -> None:
    bind = op.get_bind()
    for instance_id, raw in _finished_states():
        if raw[:1] != _PACKED:
            continue
        packed = raw[1:]
        text = unpack(packed, _details(instance_id, packed_upto(packed)))
        bind.execute(_STATE.update().where(_STATE.c.id == instance_id).values(
            state=zlib.compress(text.encode("utf-8"), 6)))


def upgrade() -> None:
    _pack_finished()
    for table, name, _old, new, where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, new, unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    for table, name, _columns in _REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    _unpack_finished()
    for table, name, columns in _REDUNDANT:
        op.create_index(name, table, columns, unique=False)
    for table, name, old, _new, _where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old, unique=False)
