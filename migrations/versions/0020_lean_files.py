"""a lean finished file: worklist and SLA indexes over open steps and running files only, indexes that
repeated another's first column dropped

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

import sqlalchemy as sa
from alembic import op

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


def upgrade() -> None:
    for table, name, _old, new, where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, new, unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    for table, name, _columns in _REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in _REDUNDANT:
        op.create_index(name, table, columns, unique=False)
    for table, name, old, _new, _where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old, unique=False)
