"""Workflows kept in memory between the steps of a file, so that a step following this process's
own committed write of an instance skips deserialising its state (a tenth of a step's time).

An entry is the workflow object this process wrote, with the instance's ``lock_version`` and
definition as its transaction committed them. It is trusted only when the instance row as read
in the current transaction has that same version and definition: every write of an instance
checks and bumps ``lock_version`` (the ORM's version counter, ``app.db.update_rows``), so a row
with that version holds the very state this process wrote, whoever wrote since (another process
moves the version, and the entry is missed and dropped). An entry is put back only once its
transaction commits (:func:`_keep_committed`); a rollback, a savepoint rolled back or a session
closed without commit leaves none. Taking an entry removes it: a workflow is used by one unit of
work at a time, and a step that fails leaves nothing behind.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction, object_session

from app.engine.models import InstanceStatus, ProcessInstance
from app.engine.spiff import BpmnWorkflow

_PENDING = "ptsp_pending_workflows"  # session.info: {(cache, instance id): (instance, workflow)} written, not committed


@dataclass(frozen=True)
class _Entry:
    version: int
    definition_id: int
    workflow: BpmnWorkflow


class WorkflowCache:
    """At most ``size`` workflows (least recently written dropped first); ``size`` 0 keeps none.
    Shared by the threads of a process: every change of the entries holds a lock."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance: ProcessInstance) -> BpmnWorkflow | None:
        """The workflow ``instance.state`` holds in the caller's transaction, when this process has it,
        or None (then load the state): the one a step earlier in the same transaction wrote (the
        intake opens a file and completes its first step in one), else the one this process committed
        at the version and definition the row has. A matching entry is removed (the caller writes
        the workflow back, or it is gone), an older one too; a newer one stays for its next step
        (the caller read the row before that write and will not win)."""
        session = object_session(instance)
        written = session.info.get(_PENDING, {}).pop((self, instance.id), None) if session is not None else None
        if written is not None and written[0] is instance:
            # Written in this transaction, which holds the row's lock until it ends: nobody else has
            # written it since. A savepoint rolled back since would have dropped it (below).
            return written[1]
        with self._lock:
            entry = self._entries.get(instance.id)
            if entry is None or entry.version > instance.lock_version:
                return None
            del self._entries[instance.id]
        if entry.version != instance.lock_version or entry.definition_id != instance.definition_id:
            return None
        return entry.workflow

    def keep_after_commit(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """``workflow`` is what ``instance.state`` now holds: keep it once ``session`` commits, with
        the version and definition the commit leaves (a later write in the same transaction replaces it)."""
        if self.size > 0 and instance.status == InstanceStatus.RUNNING:
            session.info.setdefault(_PENDING, {})[(self, instance.id)] = (instance, workflow)

    def forget(self, session: Session, instance: ProcessInstance) -> None:
        """Keep nothing for ``instance`` from this transaction (a state its next step must load)."""
        session.info.get(_PENDING, {}).pop((self, instance.id), None)

    def version_of(self, instance_id: int) -> int | None:
        """The version the entry of ``instance_id`` was written with, if there is one (for checks)."""
        with self._lock:
            entry = self._entries.get(instance_id)
        return None if entry is None else entry.version

    def peek(self, instance_id: int) -> BpmnWorkflow | None:
        """The kept workflow of ``instance_id``, left in place: to inspect, never to run."""
        with self._lock:
            entry = self._entries.get(instance_id)
        return None if entry is None else entry.workflow

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _put(self, instance_id: int, entry: _Entry) -> None:
        with self._lock:
            kept = self._entries.get(instance_id)
            if kept is not None and kept.version > entry.version:
                return  # a later write's hook ran first (threads): keep the newer workflow
            self._entries[instance_id] = entry
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction around it may still roll back
    pending: dict[tuple[WorkflowCache, int], tuple[ProcessInstance, BpmnWorkflow]] = session.info.pop(_PENDING, {})
    for (cache, instance_id), (instance, workflow) in pending.items():
        # As committed: the flush before the commit wrote every change of the row. Read without loading.
        values: dict[str, Any] = inspect(instance).dict
        version, definition_id = values.get("lock_version"), values.get("definition_id")
        if values.get("status") == InstanceStatus.RUNNING and isinstance(version, int) and isinstance(definition_id, int):
            cache._put(instance_id, _Entry(version, definition_id, workflow))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, _previous: SessionTransaction) -> None:
    # The transaction or a savepoint of it rolled back: what it wrote may be undone.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_unfinished(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction ended (closed without a commit, or committed: kept already)
        session.info.pop(_PENDING, None)
