"""Appending to a file's hash-chained history: the only way an InstanceEvent is written.

Events are written with one Core ``INSERT`` at the session's next flush (before the UPDATE of
the instance row whose head they move), not through the ORM's unit of work: a history row is
never changed after it is written, so it needs none of the unit of work's bookkeeping (which cost
more than the statement itself). Until that flush an appended event is *pending*:
:func:`pending_events` gives the events of an instance appended in this unit of work.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session

from app.chain import GENESIS, history_content, link_hash
from app.engine.models import InstanceEvent, ProcessInstance

_PENDING = "ptsp_pending_events"  # session.info: events appended and not yet written, in order
_COLUMNS = ("instance_id", "seq", "at", "kind", "task_name", "actor", "detail", "prev_hash", "row_hash")
_INSERT = insert(cast(Table, InstanceEvent.__table__))


def append_event(session: Session, instance: ProcessInstance, kind: str, actor: str, at: datetime,
                 task_name: str | None = None, detail: dict[str, Any] | None = None) -> InstanceEvent:
    """Add one history event chained to the instance's head, and move the head.

    The head lives on the instance row, which the caller's unit of work updates anyway (and
    whose version check refuses a concurrent writer): no extra statement, no fork. The event is
    written at the next flush, which that change of the instance row guarantees.
    """
    # Stored as JSON: hash what will be read back (e.g. integer keys become strings).
    stored_detail = json.loads(json.dumps(detail or {}))
    prev = instance.history_head or GENESIS
    event = InstanceEvent(instance_id=instance.id, seq=(instance.history_seq or 0) + 1, at=at, kind=kind,
                          task_name=task_name, actor=actor, detail=stored_detail, prev_hash=prev)
    event.row_hash = link_hash(prev, history_content(event))
    instance.history_seq = event.seq
    instance.history_head = event.row_hash
    session.info.setdefault(_PENDING, []).append(event)
    return event


def pending_events(session: Session, instance_id: int) -> list[InstanceEvent]:
    """The events of ``instance_id`` appended in this unit of work and not yet flushed, in order."""
    return [e for e in session.info.get(_PENDING, ()) if e.instance_id == instance_id]


def write_pending(session: Session) -> None:
    """Write the pending events now (the next flush does otherwise)."""
    events = session.info.pop(_PENDING, None)
    if events:
        session.connection().execute(_INSERT, [{name: getattr(e, name) for name in _COLUMNS} for e in events])


@event.listens_for(Session, "before_flush")
def _write_pending(session: Session, _context: object, _instances: object) -> None:
    write_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, _transaction: object) -> None:
    # Committed: flushed already (the list is empty). Rolled back or closed: never written.
    session.info.pop(_PENDING, None)
