"""The file clock and the steps' due times, derived from the engine.

:class:`SlaTracker` is a :class:`~app.engine.runtime.RuntimeListener`: it runs in
the transaction of every unit of work of an instance and keeps the SLA columns
of the file and of its human tasks in step with the workflow. It decides from
the user tasks' ``spiffworkflow:property`` values (``definition.user_tasks[name]
["properties"]``):

``dueWorkingDays="n"``
    the step is due at the close of office hours of the n-th working day after
    it opened (``HumanTask.due_at``), and gets its own SLA state.
``slaClockStart="true"`` (+ optional ``slaClockStartWhen="variable"``)
    the file's legal clock starts when this task is *completed*, if the named
    variable is truthy in the data it was completed with. On ``check_documents``
    of the building permit: ``slaClockStartWhen="documents_complete"``, so the
    clock starts when the documents are confirmed complete, not at first contact
    (the law's "lengkap dan benar"). Chosen over "the first task outside intake
    opens" because it says so in the diagram, beside the step that decides it.
``waitingOnApplicant="true"``
    while such a task is open the file waits on the applicant: its clock pauses,
    and the task itself is not escalated (the officer cannot make the applicant
    come). On resume the deadline moves later by the *working time* the pause
    lasted (:func:`app.sla.hours.add_working_time`).

The file's limit is the same promise the receipt prints:
:func:`app.files.services.promised_working_days` (the catalogue's duration). The clock stops when the instance
completes; an instance stopped on a script error keeps its clock running (the
delay is the office's). Only ``sla_next_check_at`` is written for state changes:
the sweep (:mod:`app.sla.sweep`) moves the state and creates the notices, so
they are made in one place.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.engine.history import pending_events
from app.engine.models import HumanTask, InstanceEvent, TaskStatus
from app.engine.runtime import InstanceChange
from app.files.models import ApplicationFile
from app.files.services import file_of_change, promised_working_days
from app.sla import policy
from app.sla.calendar import WorkingCalendar
from app.sla.hours import add_working_time, deadline_after, working_time_between
from app.sla.services import OfficeCalendar

_FINISHED = ("completed", "cancelled")
SLA_COLUMNS = [
    "sla_started_at", "sla_limit_days", "sla_due_at", "sla_paused_at", "sla_paused_seconds", "sla_stopped_at",
    "sla_state", "sla_next_check_at", "past_legal_limit", "past_legal_limit_at",
]


def is_true(value: Any) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


def task_properties(user_tasks: dict[str, Any], task_name: str) -> dict[str, Any]:
    props = (user_tasks.get(task_name) or {}).get("properties") or {}
    return dict(props)


class SlaTracker:
    """Keeps file clocks and step due times in step with the engine (RuntimeListener)."""

    def __init__(self, settings: Settings, office_calendar: OfficeCalendar) -> None:
        self.settings = settings
        self.office_calendar = office_calendar
        self.hours = office_calendar.hours
        self.file_thresholds = policy.Thresholds(settings.sla_warning_days, settings.sla_critical_days)
        self.task_thresholds = policy.Thresholds(settings.sla_task_warning_days, settings.sla_task_critical_days)

    def instance_changed(self, session: Session, change: InstanceChange) -> None:
        # The cached calendar: committed changes of days invalidate it (app.sla.services).
        calendar = self.office_calendar.current()
        user_tasks = change.instance.definition.user_tasks or {}
        for task in change.opened:
            self._open_task(calendar, user_tasks, task, change.now)
        for task in change.closed:
            task.sla_next_check_at = None
        self._track_file(session, calendar, user_tasks, change)

    # -- steps ------------------------------------------------------------------------

    def _open_task(self, calendar: WorkingCalendar, user_tasks: dict[str, Any], task: HumanTask, now: datetime) -> None:
        info = user_tasks.get(task.task_name) or {}
        days = info.get("due_working_days")
        if days is None:
            return
        task.due_at = deadline_after(calendar, self.hours, now, int(days))
        if is_true(task_properties(user_tasks, task.task_name).get("waitingOnApplicant")):
            return  # not escalated: the applicant, not the officer, holds it
        task.sla_state = policy.ON_TRACK
        task.sla_next_check_at = policy.next_check(calendar, self.hours, now, task.due_at, self.task_thresholds,
                                                   task.sla_state)

    # -- the file's clock ---------------------------------------------------------------

    @staticmethod
    def _may_move_clock(user_tasks: dict[str, Any], change: InstanceChange) -> bool:
        """Whether this change can start, pause, resume or stop the file's clock: only a step that
        starts it, a step waiting on the applicant opening or closing, or the end of the process.
        Any other step leaves the file row alone (not even read)."""
        if change.finished or change.instance.status in _FINISHED:
            return True
        for task in (*change.opened, *change.closed):
            props = task_properties(user_tasks, task.task_name)
            if is_true(props.get("waitingOnApplicant")) or (
                    task in change.closed and is_true(props.get("slaClockStart"))):
                return True
        return False

    def _track_file(self, session: Session, calendar: WorkingCalendar, user_tasks: dict[str, Any],
                    change: InstanceChange) -> None:
        if not self._may_move_clock(user_tasks, change):
            return
        with session.no_autoflush:
            # Read and lock the row in one statement, so the sweep (which skips locked rows)
            # and this step never write the clock from different readings.
            loaded = {id(o) for o in session.identity_map.values() if isinstance(o, ApplicationFile)}
            file = file_of_change(session, change, lock=True)
            if file is None:
                return  # not linked yet: the instance is starting
            if id(file) in loaded:
                # Already in this unit of work: re-read only the clock's columns, so the
                # caller's own unsaved changes of the file stay as they are.
                session.refresh(file, attribute_names=SLA_COLUMNS, with_for_update=True)
        if file.sla_stopped_at is not None:
            return  # already done
        now = change.now
        if file.sla_started_at is None:
            for task in change.closed:
                if task.status == TaskStatus.COMPLETED and self._starts_clock(session, user_tasks, task, change):
                    self._start(calendar, file, now)
                    break
        if file.sla_started_at is None:
            if change.instance.status in _FINISHED:
                file.sla_stopped_at = now
            return
        if change.instance.status in _FINISHED:
            self._stop(calendar, file, now)
            return
        waiting = any(is_true(task_properties(user_tasks, name).get("waitingOnApplicant"))
                      for name in change.open_steps)
        if waiting and file.sla_paused_at is None:
            file.sla_paused_at = now
            file.sla_next_check_at = None
        elif not waiting and file.sla_paused_at is not None:
            self._resume(calendar, file, now)

    def _starts_clock(self, session: Session, user_tasks: dict[str, Any], task: HumanTask,
                      change: InstanceChange) -> bool:
        props = task_properties(user_tasks, task.task_name)
        if not is_true(props.get("slaClockStart")):
            return False
        condition = str(props.get("slaClockStartWhen") or "").strip()
        if not condition:
            return True
        return bool(_completion_data(session, change.instance.id, task.task_name).get(condition))

    def _start(self, calendar: WorkingCalendar, file: ApplicationFile, now: datetime) -> None:
        limit = promised_working_days(file.process_id, self.settings)
        file.sla_started_at = now
        file.sla_limit_days = limit
        file.sla_due_at = deadline_after(calendar, self.hours, now, limit)
        file.promised_date = calendar.local_date(file.sla_due_at)  # the receipt's date follows the clock
        file.sla_state = policy.ON_TRACK
        file.sla_next_check_at = self._next_check(calendar, file, now)

    def _resume(self, calendar: WorkingCalendar, file: ApplicationFile, now: datetime) -> None:
        assert file.sla_paused_at is not None and file.sla_due_at is not None
        paused = working_time_between(calendar, self.hours, file.sla_paused_at, now)
        if paused > timedelta(0):
            file.sla_due_at = add_working_time(calendar, self.hours, file.sla_due_at, paused)
            file.promised_date = calendar.local_date(file.sla_due_at)
            file.sla_paused_seconds = (file.sla_paused_seconds or 0) + int(paused.total_seconds())
        file.sla_paused_at = None
        file.sla_next_check_at = self._next_check(calendar, file, now)

    def _stop(self, calendar: WorkingCalendar, file: ApplicationFile, now: datetime) -> None:
        if file.sla_paused_at is not None:
            self._resume(calendar, file, now)
        assert file.sla_due_at is not None
        state, _ = policy.evaluate(calendar, self.hours, now, file.sla_due_at, self.file_thresholds)
        file.sla_state = state
        if state == policy.BREACHED and not file.past_legal_limit:
            file.past_legal_limit = True
            file.past_legal_limit_at = file.sla_due_at
        file.sla_stopped_at = now
        file.sla_next_check_at = None

    def _next_check(self, calendar: WorkingCalendar, file: ApplicationFile, now: datetime) -> datetime | None:
        assert file.sla_due_at is not None
        return policy.next_check(calendar, self.hours, now, file.sla_due_at, self.file_thresholds, file.sla_state)


def _completion_data(session: Session, instance_id: int, task_name: str) -> dict[str, Any]:
    """The data a task was just completed with (its history entry of this unit of work)."""
    for pending in reversed(pending_events(session, instance_id)):
        if pending.kind == "task_completed" and pending.task_name == task_name:
            return dict((pending.detail or {}).get("data") or {})
    with session.no_autoflush:
        event = session.scalars(select(InstanceEvent).where(
            InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "task_completed",
            InstanceEvent.task_name == task_name).order_by(InstanceEvent.id.desc()).limit(1)).first()
    return dict((event.detail or {}).get("data") or {}) if event is not None else {}
