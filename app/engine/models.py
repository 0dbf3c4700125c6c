"""Tables of the engine: deployed definitions, running instances, their open
human tasks and their history."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.chain import GENESIS
from app.db import Base, CompressedJSON, CompressedText, HexDigest, StatusColumn, UTCDateTime


class InstanceStatus(StrEnum):
    """Where a running process instance (a file's workflow) is."""

    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"  # a script or step failed; `ptsp retry` runs it again
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    """A human task (a step of a file): open on a worklist, completed by an officer, or cancelled
    by the process (a boundary timer, a branch that ended)."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_OPEN = text("status = 'open'")
_CHECKED = text("sla_next_check_at IS NOT NULL")
_TIMED = text("next_timer_at IS NOT NULL")


def open_task() -> ColumnElement[bool]:
    """``human_task.status = 'open'`` with the literal in the SQL, never a bound parameter: the
    worklist indexes cover only open steps, and a planner (PostgreSQL's generic plans too) can use
    such a partial index only when the query names the same constant. Every query of open steps
    filters with this."""
    return HumanTask.status == literal_column("'open'", String)


class ProcessDefinition(Base):
    """One deployed version of one BPMN process."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(300))
    # Only read when a spec is not in the parse cache; instance loads skip it.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    # Per user-task facts the rest of the app reads without parsing XML:
    # {task_name: {"title", "lane", "form", "due_working_days"}}
    user_tasks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(100))


class ProcessInstance(Base):
    """A running (or finished) workflow: its serialised state and the columns queries need."""

    __tablename__ = "process_instance"
    # Only instances waiting on a timer are in the timers' index.
    __table_args__ = (Index("ix_process_instance_due_timer", "next_timer_at", sqlite_where=_TIMED, postgresql_where=_TIMED),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    status: Mapped[InstanceStatus] = mapped_column(StatusColumn(InstanceStatus), index=True)
    # A running instance's serialised workflow (text); a finished one's final data packed against its
    # history (bytes, app/engine/final_state.py): read it with final_state.state_text.
    state: Mapped[str | bytes] = mapped_column(CompressedText)
    # Optimistic concurrency: every write checks and bumps it.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_by: Mapped[str] = mapped_column(String(100))
    # The head of the file's hash-chained history (app/chain.py): written with the step
    # that appends to it, so the version check above keeps two writers from forking the chain.
    history_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    history_head: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A user task of an instance, as officers' worklists see it."""

    __tablename__ = "human_task"
    __table_args__ = (
        # Only open steps are indexed for the worklists (a finished file's steps add no entries);
        # a query uses these indexes when it filters with open_task() (the literal 'open'). Lane first:
        # the open steps of some lanes (worklist.queries.open_tasks) are read from any of them.
        # The worklist: a lane's open tasks (of one step), most urgent first, read in order
        # (app/worklist/queries.py).
        Index("ix_human_task_worklist", "lane", "due_at", "created_at", "id", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_human_task_worklist_step", "lane", "task_name", "due_at", "created_at", "id",
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        # ... of one permit type: no join to the instance and its definition.
        Index("ix_human_task_worklist_type", "lane", "process_id", "due_at", "created_at", "id",
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        # The SLA sweep reads only steps with a next check (none once a step is closed).
        Index("ix_human_task_sla_next_check_at", "sla_next_check_at",
              sqlite_where=_CHECKED, postgresql_where=_CHECKED),
        # Also the index of instance_id (its first column) for the foreign key.
        UniqueConstraint("instance_id", "task_guid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_guid: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(200))  # the permit type (its definition's process id)
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str] = mapped_column(String(100))
    form: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[TaskStatus] = mapped_column(StatusColumn(TaskStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Claiming: an open task claimed by one officer of its lane.
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The step's own due time (dueWorkingDays) and SLA state (app/sla/tracking.py);
    # sla_next_check_at is when the state next changes (None once closed or not tracked).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set by the dashboard's beat task once the completed step is in its rollups (app/desk/rollup.py):
    # exact whenever the step's transaction commits, however late.
    rolled_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    instance: Mapped[ProcessInstance] = relationship()


class InstanceEvent(Base):
    """The history of an instance: who did what, when; hash-chained per instance (app/engine/history.py)."""

    __tablename__ = "instance_event"
    # Also the index of instance_id (its first column) for the foreign key and a file's history.
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    task_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(CompressedJSON, default=dict)
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(HexDigest)
    row_hash: Mapped[str] = mapped_column(HexDigest)
