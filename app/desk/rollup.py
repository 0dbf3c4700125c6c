"""Keeping the dashboard's rollup rows (:mod:`app.desk.models`) up to date, from a beat task.

Incremental and idempotent: each run reads only what changed since the last run (files by id,
steps by completion time, files still open), so it never adds work to a step's own transaction and
can run as often as wanted. Durations use the SLA clock's arithmetic (:mod:`app.sla.hours`):
working time inside office hours on working days, divided by the length of one office day.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalogue.services import Catalogue
from app.desk.models import DayRollup, FileRollup, RollupMark, StepRollup
from app.engine.models import HumanTask, ProcessInstance
from app.engine.runtime import Runtime
from app.files.models import ApplicationFile
from app.parts import CoreParts
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, working_time_between
from app.sla.services import OfficeCalendar


class DeskParts(CoreParts, Protocol):
    """What the dashboard's rollups and the monthly report need of the container."""

    office_calendar: OfficeCalendar
    catalogue: Catalogue
    runtime: Runtime


# Steps committed a little after a later step (clocks of two workers) are still read.
OVERLAP = timedelta(minutes=10)
BATCH = 5000
_FINISHED = ("completed", "cancelled")


@dataclass(frozen=True)
class RefreshCount:
    files_added: int
    files_finished: int
    steps_added: int


def working_days(calendar: WorkingCalendar, hours: OfficeHours, start: datetime, end: datetime,
                 paused_seconds: int = 0) -> float:
    """Working days from ``start`` to ``end`` less a pause (seconds of working time), as the SLA clock counts."""
    worked = working_time_between(calendar, hours, start, end) - timedelta(seconds=paused_seconds or 0)
    return max(worked, timedelta(0)) / hours.day_length


def file_duration(calendar: WorkingCalendar, hours: OfficeHours, file: ApplicationFile) -> float | None:
    """Working days the file's legal clock ran (None when it never started or has not stopped)."""
    if file.sla_started_at is None or file.sla_stopped_at is None:
        return None
    return working_days(calendar, hours, file.sla_started_at, file.sla_stopped_at, file.sla_paused_seconds)


def file_on_time(file: ApplicationFile) -> bool | None:
    """The SLA clock's verdict on a finished file: within its legal limit or not (None: the clock never ran)."""
    if file.sla_started_at is None or file.sla_stopped_at is None:
        return None
    return not file.past_legal_limit


def fees_of(cat: Catalogue, process_id: str, data: dict[str, Any]) -> tuple[int, int]:
    """(assessed, paid) retribusi of a file from its process data."""
    entry = cat.get(process_id)
    variable = entry.fee.fee_variable if entry is not None else "fee"
    raw = data.get(variable, data.get("fee"))
    assessed = int(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0 else 0
    paid = assessed if assessed and bool(data.get("payment_received")) else 0
    return assessed, paid


def _mark(session: Session, name: str) -> RollupMark:
    mark = session.get(RollupMark, name)
    if mark is None:
        mark = RollupMark(name=name, last_id=0, last_at=None)
        session.add(mark)
    return mark


def refresh(session: Session, calendar: WorkingCalendar, hours: OfficeHours, cat: Catalogue,
            read_data: Callable[[ProcessInstance], dict[str, Any]]) -> RefreshCount:
    """Bring the rollup rows up to date with the files and steps committed so far."""
    days = _Days(session)
    added = _add_new_files(session, calendar, days)
    finished = _finish_files(session, calendar, hours, cat, read_data, days)
    steps = _add_completed_steps(session, calendar, hours)
    session.flush()
    return RefreshCount(added, finished, steps)


def refresh_rollups(c: DeskParts) -> RefreshCount:
    """One run of the beat task: refresh until nothing is left to read, one transaction per batch."""
    total = RefreshCount(0, 0, 0)
    while True:
        with c.db.unit_of_work() as session:
            count = refresh(session, c.office_calendar.current(session), c.office_calendar.hours, c.catalogue,
                            c.runtime.data)
        total = RefreshCount(total.files_added + count.files_added, total.files_finished + count.files_finished,
                             total.steps_added + count.steps_added)
        if max(count.files_added, count.files_finished, count.steps_added) < BATCH:
            return total


class _Days:
    """The day rows touched by one run, read once and added to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[date, str], DayRollup] = {}

    def __call__(self, day: date, process_id: str) -> DayRollup:
        key = (day, process_id)
        if key not in self.rows:
            row = self.session.get(DayRollup, key)
            if row is None:
                row = DayRollup(day=day, process_id=process_id, received=0, finished=0, with_clock=0, on_time=0,
                                fee_assessed=0, fee_paid=0)
                self.session.add(row)
            self.rows[key] = row
        return self.rows[key]


def _add_new_files(session: Session, calendar: WorkingCalendar, days: _Days) -> int:
    mark = _mark(session, "files")
    rows = session.execute(select(ApplicationFile.id, ApplicationFile.process_id, ApplicationFile.created_at)
                           .where(ApplicationFile.id > mark.last_id).order_by(ApplicationFile.id).limit(BATCH)).all()
    for file_id, process_id, created_at in rows:
        received_on = calendar.local_date(created_at)
        session.add(FileRollup(file_id=file_id, process_id=process_id, received_on=received_on,
                               finished_on=None, fee_assessed=0, fee_paid=0))
        days(received_on, process_id).received += 1
        mark.last_id = file_id
    session.flush()
    return len(rows)


def _finish_files(session: Session, calendar: WorkingCalendar, hours: OfficeHours, cat: Catalogue,
                  read_data: Callable[[ProcessInstance], dict[str, Any]], days: _Days) -> int:
    rows = session.execute(
        select(FileRollup, ApplicationFile, ProcessInstance)
        .join(ApplicationFile, ApplicationFile.id == FileRollup.file_id)
        .join(ProcessInstance, ProcessInstance.id == ApplicationFile.instance_id)
        .where(FileRollup.finished_on.is_(None), ProcessInstance.status.in_(_FINISHED))
        .limit(BATCH)).all()
    for rollup, file, instance in rows:
        ended = file.sla_stopped_at or instance.completed_at or instance.updated_at
        rollup.finished_on = calendar.local_date(ended)
        rollup.working_days = file_duration(calendar, hours, file)
        rollup.on_time = file_on_time(file)
        rollup.fee_assessed, rollup.fee_paid = fees_of(cat, file.process_id, read_data(instance))
        day = days(rollup.finished_on, rollup.process_id)  # type: ignore[arg-type]  # just set
        day.finished += 1
        day.with_clock += rollup.on_time is not None
        day.on_time += rollup.on_time is True
        day.fee_assessed += rollup.fee_assessed
        day.fee_paid += rollup.fee_paid
    return len(rows)


def _add_completed_steps(session: Session, calendar: WorkingCalendar, hours: OfficeHours) -> int:
    mark = _mark(session, "steps")
    query = (select(HumanTask, ProcessInstance.definition_id).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.status == "completed", HumanTask.completed_at.is_not(None),
                    ~select(StepRollup.task_id).where(StepRollup.task_id == HumanTask.id).exists()))
    if mark.last_at is not None:
        query = query.where(HumanTask.completed_at >= mark.last_at - OVERLAP)
    rows = session.execute(query.order_by(HumanTask.completed_at, HumanTask.id).limit(BATCH)).all()
    if not rows:
        return 0
    process_of = _process_ids(session, {d for _, d in rows})
    for task, definition_id in rows:
        assert task.completed_at is not None
        mark.last_at = task.completed_at if mark.last_at is None else max(mark.last_at, task.completed_at)
        session.add(StepRollup(
            task_id=task.id, process_id=process_of[definition_id], task_name=task.task_name,
            lane=task.lane, completed_by=task.completed_by, completed_on=calendar.local_date(task.completed_at),
            working_days=working_days(calendar, hours, task.created_at, task.completed_at),
            overdue=task.due_at is not None and task.completed_at > task.due_at))
    return len(rows)


def _process_ids(session: Session, definition_ids: set[int]) -> dict[int, str]:
    from app.engine.models import ProcessDefinition

    rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.process_id)
                           .where(ProcessDefinition.id.in_(definition_ids)))
    return {definition_id: process_id for definition_id, process_id in rows}
