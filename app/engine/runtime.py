"""Running instances: start, complete a user task, fire due timers, retry.

Each public method loads what it needs, advances the workflow, and writes the
new state, the human-task rows, the history and the next timer in the caller's
transaction (it flushes; the caller commits once).
"""
from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from app.clock import Clock
from app.db import insert_rows, update_rows
from app.engine import final_state, spiff
from app.engine.definitions import spec_cache
from app.engine.errors import (
    ConcurrentUpdate,
    EngineError,
    InstanceNotRunning,
    NotFound,
    TaskAlreadyDone,
    TaskNotReady,
)
from app.engine.history import append_event, write_pending
from app.engine.migration import MigrationIssue, move_workflow
from app.engine.models import HumanTask, InstanceEvent, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus, open_task
from app.engine.workflow_cache import WorkflowCache
from app.publisher import enqueue_after_commit

log = logging.getLogger(__name__)

FIRE_TIMERS_JOB = "workers.tasks.fire_timers"


@dataclass(frozen=True)
class InstanceChange:
    """What one unit of work did to an instance, for listeners in the same transaction."""

    instance: ProcessInstance
    opened: list[HumanTask]
    closed: list[HumanTask]  # completed or cancelled in this unit of work
    finished: bool  # the instance completed (or stopped in error) in this unit of work
    now: datetime
    open_steps: frozenset[str] = frozenset()  # names of every user task open after it
    # What one listener read for the next ones of the same change (e.g. the instance's file): read once.
    shared: dict[str, Any] = field(default_factory=dict)
    # The process data as the last completed step left it, as :meth:`Runtime.data` reads it back from
    # the state just written, without loading that state again (built on first call, then kept).
    data: Callable[[], dict[str, Any]] = field(default=dict)


class RuntimeListener(Protocol):
    def instance_changed(self, session: Session, change: InstanceChange) -> None: ...


@dataclass(frozen=True)
class MigrationCheck:
    """Whether one instance can move from its version to ``to_version``, and why not."""

    instance_id: int
    from_version: int
    to_version: int
    issues: tuple[MigrationIssue, ...]

    @property
    def movable(self) -> bool:
        return not self.issues


class MigrationRefused(EngineError):
    def __init__(self, check: MigrationCheck) -> None:
        self.check = check
        super().__init__(f"instance {check.instance_id} cannot move to version {check.to_version}: "
                         + "; ".join(issue.message for issue in check.issues))


@dataclass
class Runtime:
    """What the engine needs from outside: the time, the script engine, and who listens.

    Listeners run inside the caller's transaction after the instance's rows are
    written, so what they record (deadlines, notices, audit) commits or rolls
    back with the step itself.
    """

    clock: Clock
    script_engine: Any
    listeners: list[RuntimeListener] = field(default_factory=list)
    # The workflows this process committed, taken again by the instance's next step (workflow_cache.py).
    workflows: WorkflowCache = field(default_factory=WorkflowCache)

    # -- public services ---------------------------------------------------
    def start(self, session: Session, definition: ProcessDefinition, data: dict[str, Any], actor: str) -> ProcessInstance:
        """Start an instance of ``definition`` with ``data`` as its first process data."""
        parsed = spec_cache.get(definition)
        workflow = spiff.new_workflow(parsed.spec, parsed.subprocess_specs, self.script_engine)
        for task in workflow.get_tasks(state=spiff.TaskState.READY):
            task.set_data(**copy.deepcopy(data))  # the caller's objects stay out of the (kept) workflow
        now = self.clock.now()
        instance = ProcessInstance(
            definition=definition, status=InstanceStatus.RUNNING, state="", started_at=now, updated_at=now, started_by=actor,
        )
        session.add(instance)
        session.flush()
        self._record(session, instance, "started", actor, detail={"version": definition.version})
        self._advance(session, instance, workflow, actor, open_before=set())
        return instance

    def complete(self, session: Session, human_task: HumanTask, data: dict[str, Any], actor: str) -> ProcessInstance:
        """Complete an open user task with already validated ``data``."""
        if human_task.status != TaskStatus.OPEN:
            raise TaskAlreadyDone(f"task {human_task.title!r} was already {_status_word(human_task.status)}")
        instance = human_task.instance
        if instance.status != InstanceStatus.RUNNING:
            raise InstanceNotRunning(f"file process is {instance.status}; its tasks cannot be completed")
        workflow = self._load(instance)
        open_before = _ready_guids(workflow)
        task = spiff.task_by_guid(workflow, human_task.task_guid)
        if task is None or task.state != spiff.TaskState.READY:
            raise TaskNotReady(f"task {human_task.title!r} is not ready to be completed")
        # A copy: the workflow may be kept past this transaction (workflow_cache.py), and nothing
        # of the caller's may change it there.
        task.set_data(**copy.deepcopy(data))
        try:
            with spiff.using_clock(self.clock):
                task.run()
        except SpiffWorkflowException as exc:
            raise TaskNotReady(f"task {human_task.title!r} could not be completed: {exc}") from exc
        human_task.status = TaskStatus.COMPLETED
        human_task.completed_at = self.clock.now()
        human_task.completed_by = actor
        self._record(session, instance, "task_completed", actor, human_task.task_name, {"data": data})
        self._advance(session, instance, workflow, actor, open_before - {human_task.task_guid}, [human_task])
        return instance

    def fire_due_timers(self, session: Session, instance_id: int) -> bool:
        """Advance one instance whose timer may be due; True when a timer fired."""
        instance = session.scalars(
            select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update(of=ProcessInstance)
        ).first()
        if instance is None or instance.status != InstanceStatus.RUNNING:
            return False
        if instance.next_timer_at is None or instance.next_timer_at > self.clock.now():
            return False
        workflow = self._load(instance)
        open_before = _ready_guids(workflow)
        waiting_before = {t.id for t in workflow.get_tasks(state=spiff.TaskState.WAITING)}
        with spiff.using_clock(self.clock):
            workflow.refresh_timers()
        fired = [t for t in workflow.get_tasks(state=spiff.TaskState.READY) if t.id in waiting_before]
        for task in fired:
            self._record(session, instance, "timer_fired", "system:timer", task.task_spec.name,
                         {"timer": task.task_spec.bpmn_name or task.task_spec.name})
        self._advance(session, instance, workflow, "system:timer", open_before)
        return bool(fired)

    def due_instance_ids(self, session: Session, limit: int = 500) -> list[int]:
        """Running instances whose next timer is due, earliest first (indexed column)."""
        return list(session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.next_timer_at <= self.clock.now(), ProcessInstance.status == InstanceStatus.RUNNING)
            .order_by(ProcessInstance.next_timer_at).limit(limit)
        ))

    def retry(self, session: Session, instance_id: int, actor: str,
              data: dict[str, Any] | None = None) -> ProcessInstance:
        """Run again the failed step of an instance in error, optionally with corrected data."""
        instance = self.get(session, instance_id)
        if instance.status != InstanceStatus.ERROR:
            raise InstanceNotRunning(f"instance {instance_id} is {instance.status}, not in error")
        workflow = self._load(instance)
        open_before = _ready_guids(workflow)
        for task in workflow.get_tasks(state=spiff.TaskState.ERROR):
            if data:
                # A reset task inherits its parent's data when it runs again.
                task.parent.data.update(data)
            workflow.reset_from_task_id(task.id)
        instance.status = InstanceStatus.RUNNING
        instance.error = None
        self._record(session, instance, "retried", actor, detail={"corrections": data or {}})
        self._advance(session, instance, workflow, actor, open_before, keep=False)
        return instance

    def check_migration(self, instance: ProcessInstance, target: ProcessDefinition) -> MigrationCheck:
        """Dry run: can ``instance`` move to ``target`` (another version of its process)? Changes nothing."""
        issues, _ = self._trial_move(instance, target)
        return MigrationCheck(instance.id, instance.definition.version, target.version, tuple(issues))

    def migrate(self, session: Session, instance: ProcessInstance, target: ProcessDefinition,
                actor: str) -> MigrationCheck:
        """Move a running instance to ``target``: its state, its definition, its open task rows
        (title, lane and form as ``target`` has them) and its history ("migrated", with both
        versions), in the caller's transaction. Raises :class:`MigrationRefused` (nothing changed)
        when the dry run finds issues. Lock the instance row first when others may advance it."""
        from_version = instance.definition.version
        issues, workflow = self._trial_move(instance, target)
        check = MigrationCheck(instance.id, from_version, target.version, tuple(issues))
        if issues or workflow is None:
            raise MigrationRefused(check)
        source = instance.definition
        open_before = _ready_guids(workflow)  # ready tasks keep their ids across the move
        instance.definition = target
        self._record(session, instance, "migrated", actor, detail={
            "from_version": source.version, "to_version": target.version,
            "from_definition_id": source.id, "to_definition_id": target.id})
        self._refresh_open_rows(session, instance, target)
        self._advance(session, instance, workflow, actor, open_before, keep=False)
        return check

    def get(self, session: Session, instance_id: int) -> ProcessInstance:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def data(self, instance: ProcessInstance, history: Iterable[InstanceEvent] = ()) -> dict[str, Any]:
        """The process data as the last completed step left it (a finished instance's is read with
        its history: ``history`` when the caller has read it, else in the instance's session)."""
        final = spiff.final_data(final_state.state_text(object_session(instance), instance, history))
        if final is not None:
            return final
        return spiff.last_data(self._load(instance, take=False))

    # -- internals ---------------------------------------------------------
    def _trial_move(self, instance: ProcessInstance, target: ProcessDefinition
                    ) -> tuple[list[MigrationIssue], spiff.BpmnWorkflow | None]:
        source = instance.definition
        if target.process_id != source.process_id:
            return [MigrationIssue("other_process", message=(
                f"version {target.version} belongs to process {target.process_id!r}, not {source.process_id!r}"))], None
        if target.id == source.id:
            return [MigrationIssue("same_version", message=f"already on version {target.version}")], None
        if instance.status != InstanceStatus.RUNNING:
            return [MigrationIssue("not_running", message=f"the process is {instance.status}, not running")], None
        workflow = self._load(instance, take=False)  # a dry run leaves the kept workflow alone
        parsed = spec_cache.get(target)
        issues = move_workflow(workflow, parsed.spec, parsed.subprocess_specs, target.version)
        if not issues:
            # From now on the state is loaded with the target alone: prove that it loads.
            try:
                spiff.load_state(spiff.dump_state(workflow), parsed.spec, parsed.subprocess_specs, self.script_engine)
            except (KeyError, SpiffWorkflowException) as exc:
                issues = [MigrationIssue("planned_missing", message=(
                    f"the moved state does not load with version {target.version}: {exc}"))]
        return issues, (None if issues else workflow)

    def _refresh_open_rows(self, session: Session, instance: ProcessInstance, target: ProcessDefinition) -> None:
        """Open task rows take the title, lane and form their step has in ``target``;
        a claim on a step that changes lane is released (its officer may not be in the new one)."""
        rows = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, open_task()))
        for row in rows:
            info = (target.user_tasks or {}).get(row.task_name) or {}
            row.title = info.get("title") or row.title
            row.form = info.get("form")
            lane = info.get("lane") or row.lane
            if lane != row.lane:
                row.lane = lane
                row.claimed_by = None
                row.claimed_at = None

    def _load(self, instance: ProcessInstance, take: bool = True) -> spiff.BpmnWorkflow:
        """The instance's workflow as its row in this transaction holds it: the one this process
        committed at that version when it is kept (``take``: the caller runs it), else deserialised."""
        kept = self.workflows.take(instance) if take else None
        if kept is not None:
            kept.script_engine = self.script_engine
            return kept
        parsed = spec_cache.get(instance.definition)
        if not isinstance(instance.state, str):
            raise InstanceNotRunning(f"instance {instance.id} is finished: only its final data is kept")
        return spiff.load_state(instance.state, parsed.spec, parsed.subprocess_specs, self.script_engine)

    def _advance(self, session: Session, instance: ProcessInstance, workflow: spiff.BpmnWorkflow, actor: str,
                 open_before: set[str], completed: list[HumanTask] | None = None, keep: bool = True) -> None:
        """Run the engine until it waits, then write everything down.

        ``open_before`` are the user tasks that had open rows before this unit of
        work (the READY user tasks of the state as loaded, minus the one just
        completed): rows are kept in step with READY user tasks at every write.
        ``keep``: the workflow, as written, is kept for the instance's next step once the
        transaction commits (not after a retry or a migration: their next step loads the state).
        """
        try:
            with spiff.using_clock(self.clock):
                workflow.do_engine_steps()
                workflow.refresh_timers()
                workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            # A failing script leaves its task in ERROR; the instance keeps its
            # state and can be retried once the cause is fixed.
            message = _describe(exc)
            log.warning("instance %s stopped on a script error: %s", instance.id, message)
            instance.status = InstanceStatus.ERROR
            instance.error = message
            failed = getattr(exc, "task", None)
            self._record(session, instance, "error", actor, failed.task_spec.name if failed else None,
                         {"message": message})
        self._persist(session, instance, workflow, open_before, completed or [])
        if keep:
            self.workflows.keep_after_commit(session, instance, workflow)

    def _persist(self, session: Session, instance: ProcessInstance, workflow: spiff.BpmnWorkflow,
                 open_before: set[str], completed: list[HumanTask]) -> None:
        try:
            self._write(session, instance, workflow, open_before, completed)
        except (StaleDataError, IntegrityError) as exc:
            # The history's (instance, seq) key refuses a second writer's link as the version check does.
            if isinstance(exc, IntegrityError) and "instance_event" not in str(exc):
                raise
            raise ConcurrentUpdate(
                "this file was changed by someone else at the same moment; nothing was saved, please reload"
            ) from exc

    def _write(self, session: Session, instance: ProcessInstance, workflow: spiff.BpmnWorkflow,
               open_before: set[str], completed: list[HumanTask]) -> None:
        now = self.clock.now()
        was_running = instance.status == InstanceStatus.RUNNING
        instance.updated_at = now
        if instance.status == InstanceStatus.RUNNING and workflow.is_completed():
            instance.status = InstanceStatus.COMPLETED
            instance.completed_at = now
            self._record(session, instance, "completed", "system")
        # A finished instance keeps only its final data (it never runs again), packed against its
        # history (which holds what its steps entered): a tenth of its bytes.
        if instance.status == InstanceStatus.COMPLETED:
            final_state.store_final(session, instance, spiff.dump_final_data(workflow))
        else:
            instance.state = spiff.dump_state(workflow)
        previous_timer = instance.next_timer_at
        instance.next_timer_at = spiff.next_timer_due(workflow) if instance.status == InstanceStatus.RUNNING else None
        opened, cancelled, open_steps = self._sync_human_tasks(session, instance, workflow, open_before, now)
        if self.listeners:
            change = InstanceChange(instance, opened, completed + cancelled,
                                    finished=was_running and instance.status != InstanceStatus.RUNNING, now=now,
                                    open_steps=open_steps, data=functools.cache(functools.partial(spiff.stored_data, workflow)))
            for listener in self.listeners:
                listener.instance_changed(session, change)
        # Plain statements for what every step writes: the history, the instance row (its version
        # check refuses a second writer), the closed and the opened task rows (with what the listeners
        # set on them); the flush writes whatever else the listeners changed (the file's clock, a permit).
        write_pending(session)
        update_rows(session, [instance, *completed, *cancelled])
        session.flush()
        insert_rows(session, opened)
        if instance.next_timer_at is not None and instance.next_timer_at != previous_timer:
            enqueue_after_commit(session, FIRE_TIMERS_JOB, instance.id, eta=instance.next_timer_at)

    def _sync_human_tasks(self, session: Session, instance: ProcessInstance, workflow: spiff.BpmnWorkflow,
                          open_before: set[str], now: datetime
                          ) -> tuple[list[HumanTask], list[HumanTask], frozenset[str]]:
        """Keep one open row per READY user task; returns (opened, cancelled) rows and the names
        of every READY user task. The opened rows are not in the session yet: :meth:`_write`
        inserts them once the listeners have set their due times."""
        tasks_info = instance.definition.user_tasks
        ready = {str(t.id): t for t in spiff.ready_user_tasks(workflow)}
        gone = open_before - ready.keys()
        cancelled: list[HumanTask] = []
        if gone:  # e.g. interrupted by a boundary timer
            with session.no_autoflush:
                cancelled = list(session.scalars(select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.task_guid.in_(gone))))
            for row in cancelled:
                row.status = TaskStatus.CANCELLED
                row.completed_at = now
        opened = []
        for guid in ready.keys() - open_before:
            task = ready[guid]
            info = tasks_info.get(task.task_spec.name, {})
            row = HumanTask(
                instance=instance, instance_id=instance.id, task_guid=guid, task_name=task.task_spec.name,
                process_id=instance.definition.process_id,
                title=info.get("title") or task.task_spec.bpmn_name or task.task_spec.name,
                lane=task.task_spec.lane or "", form=info.get("form"), status=TaskStatus.OPEN, created_at=now,
            )
            opened.append(row)
        return opened, cancelled, frozenset(t.task_spec.name for t in ready.values())

    def _record(self, session: Session, instance: ProcessInstance, kind: str, actor: str,
                task_name: str | None = None, detail: dict[str, Any] | None = None) -> None:
        append_event(session, instance, kind, actor, self.clock.now(), task_name, detail)


def _ready_guids(workflow: spiff.BpmnWorkflow) -> set[str]:
    return {str(t.id) for t in spiff.ready_user_tasks(workflow)}


def _status_word(status: str) -> str:
    return {"completed": "completed", "cancelled": "cancelled by the process"}.get(status, status)


def _describe(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task", None)
    where = f"step {task.task_spec.bpmn_name or task.task_spec.name!r}: " if task is not None else ""
    line = getattr(exc, "line_number", None)
    at_line = f" (line {line})" if line else ""
    return f"{where}{exc}{at_line}"
