"""Appending to a file's hash-chained history: the only way an InstanceEvent is written."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.chain import GENESIS, history_content, link_hash
from app.engine.models import InstanceEvent, ProcessInstance


def append_event(session: Session, instance: ProcessInstance, kind: str, actor: str, at: datetime,
                 task_name: str | None = None, detail: dict[str, Any] | None = None) -> InstanceEvent:
    """Add one history event chained to the instance's head, and move the head.

    The head lives on the instance row, which the caller's unit of work updates anyway (and
    whose version check refuses a concurrent writer): no extra statement, no fork.
    """
    # Stored as JSON: hash what will be read back (e.g. integer keys become strings).
    stored_detail = json.loads(json.dumps(detail or {}))
    prev = instance.history_head or GENESIS
    event = InstanceEvent(instance_id=instance.id, seq=(instance.history_seq or 0) + 1, at=at, kind=kind,
                          task_name=task_name, actor=actor, detail=stored_detail, prev_hash=prev)
    event.row_hash = link_hash(prev, history_content(event))
    instance.history_seq = event.seq
    instance.history_head = event.row_hash
    session.add(event)
    return event
