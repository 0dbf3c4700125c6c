"""Keeping the dashboard's rollup rows (:mod:`app.desk.models`) up to date, from a beat task.

Incremental and idempotent: each run reads only what changed since the last run (files by id,
completed steps not yet rolled up, files still open), so it never adds work to a step's own
transaction and can run as often as wanted. Durations use the SLA clock's arithmetic
(:mod:`app.sla.hours`): working time inside office hours on working days, divided by the length of
one office day.

Exactly once: a completed step is rolled up when its ``rolled_up`` flag is still false (a partial
index finds these few rows), and the flag is set in the same transaction that adds the step to the
figures. A step whose transaction commits late (a long transaction, a worker's clock behind) is
therefore read on the next run, whatever its completion time says, and never twice. Runs are
serialised by locking the files mark row.

Besides the per-file and per-step rows (kept for drill-down lists), each run adds to figures whose
size does not grow with files: day rows (:class:`DayRollup`), duration histograms per day, permit
type and step (:class:`DurationBucket`, resolution :data:`RESOLUTION` working days up to
:data:`LIMIT_DAYS`, then one overflow bucket) and steps completed per day, lane and officer
(:class:`WorkDay`). The dashboard reads only these.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.catalogue.services import Catalogue
from app.desk.models import DayRollup, DurationBucket, FileRollup, RollupMark, StepRollup, WorkDay
from app.engine.models import HumanTask, ProcessInstance, TaskStatus
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


BATCH = 5000
# Duration histograms: bucket b holds durations in ((b-1)/4, b/4] working days (bucket 0: exactly
# zero), up to LIMIT_DAYS; OVERFLOW holds anything longer and reads as LIMIT_DAYS + RESOLUTION.
RESOLUTION = 0.25
LIMIT_DAYS = 30
OVERFLOW = int(LIMIT_DAYS / RESOLUTION) + 1
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


def bucket_of(days: float) -> int:
    """The histogram bucket of a duration in working days (rounded to 6 decimals of a bucket first,
    so that 0.5 computed as 0.49999999 still falls in the 0.5 bucket)."""
    b = math.ceil(round(max(days, 0.0) / RESOLUTION, 6))
    return min(b, OVERFLOW)


def bucket_value(bucket: int) -> float:
    """What a bucket reads as: its upper edge ("at most so many working days"); the overflow bucket
    reads as LIMIT_DAYS + RESOLUTION, i.e. "more than LIMIT_DAYS"."""
    return bucket * RESOLUTION


def bucket_percentile(counts: dict[int, int], q: float) -> float | None:
    """The nearest-rank ``q`` percentile of a histogram: the value of the smallest bucket with at
    least ``q`` of the counts at or below it (the median is q=0.5: for an even count the lower
    middle), at the histogram's resolution."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(math.ceil(round(q * total, 9)), 1)
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    raise AssertionError("unreachable")


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
    """The mark row, locked for this transaction (so two runs never interleave: the second waits)."""
    mark = session.get(RollupMark, name, with_for_update=True)
    if mark is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(RollupMark).values(name=name, last_id=0, last_at=None)
                        .on_conflict_do_nothing(index_elements=["name"]))  # two first runs at once: one row
        mark = session.get_one(RollupMark, name, with_for_update=True, populate_existing=True)
    return mark


def refresh(session: Session, calendar: WorkingCalendar, hours: OfficeHours, cat: Catalogue,
            read_data: Callable[[ProcessInstance], dict[str, Any]]) -> RefreshCount:
    """Bring the rollup rows up to date with the files and steps committed so far."""
    days = _Days(session)
    figures = _Figures(session)
    added = _add_new_files(session, calendar, days)
    finished = _finish_files(session, calendar, hours, cat, read_data, days, figures)
    steps = _add_completed_steps(session, calendar, hours, figures)
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


class _Figures:
    """The histogram and workload rows touched by one run, read once and added to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.buckets: dict[tuple[date, str, str, str, int], DurationBucket] = {}
        self.work: dict[tuple[date, str, str, str], WorkDay] = {}

    def duration(self, day: date, process_id: str, kind: str, name: str, days: float, late: bool) -> None:
        key = (day, process_id, kind, name, bucket_of(days))
        row = self.buckets.get(key)
        if row is None:
            row = self.session.get(DurationBucket, key)
            if row is None:
                row = DurationBucket(day=day, process_id=process_id, kind=kind, name=name, bucket=key[4], count=0,
                                     late=0)
                self.session.add(row)
            self.buckets[key] = row
        row.count += 1
        row.late += bool(late)

    def completed(self, day: date, process_id: str, lane: str, officer: str | None) -> None:
        key = (day, process_id, lane, officer or "")
        row = self.work.get(key)
        if row is None:
            row = self.session.get(WorkDay, key)
            if row is None:
                row = WorkDay(day=day, process_id=process_id, lane=lane, officer=key[3], completed=0)
                self.session.add(row)
            self.work[key] = row
        row.completed += 1


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
                  read_data: Callable[[ProcessInstance], dict[str, Any]], days: _Days, figures: _Figures) -> int:
    rows = session.execute(
        select(FileRollup, ApplicationFile, ProcessInstance)
        .join(ApplicationFile, ApplicationFile.id == FileRollup.file_id)
        .join(ProcessInstance, ProcessInstance.id == ApplicationFile.instance_id)
        .where(FileRollup.finished_on.is_(None), ProcessInstance.status.in_(_FINISHED))
        .order_by(FileRollup.file_id).limit(BATCH)).all()
    for rollup, file, instance in rows:
        ended = file.sla_stopped_at or instance.completed_at or instance.updated_at
        rollup.finished_on = calendar.local_date(ended)
        rollup.working_days = file_duration(calendar, hours, file)
        rollup.on_time = file_on_time(file)
        rollup.fee_assessed, rollup.fee_paid = fees_of(cat, file.process_id, read_data(instance))
        day = days(rollup.finished_on, rollup.process_id)
        day.finished += 1
        day.with_clock += rollup.on_time is not None
        day.on_time += rollup.on_time is True
        day.fee_assessed += rollup.fee_assessed
        day.fee_paid += rollup.fee_paid
        if rollup.working_days is not None:
            figures.duration(rollup.finished_on, rollup.process_id, "file", "",
                             rollup.working_days, rollup.on_time is False)
    return len(rows)


def _add_completed_steps(session: Session, calendar: WorkingCalendar, hours: OfficeHours, figures: _Figures) -> int:
    """Completed steps not yet rolled up (by the partial index), oldest first; flagged in this transaction."""
    rows = session.execute(
        select(HumanTask.id, HumanTask.process_id, HumanTask.task_name, HumanTask.lane, HumanTask.completed_by,
               HumanTask.created_at, HumanTask.completed_at, HumanTask.due_at)
        .where(HumanTask.status == TaskStatus.COMPLETED, HumanTask.rolled_up.is_(False))
        .order_by(HumanTask.id).limit(BATCH).with_for_update(skip_locked=True)).all()
    if not rows:
        return 0
    for task_id, process_id, task_name, lane, completed_by, created_at, completed_at, due_at in rows:
        completed_at = completed_at or created_at
        completed_on = calendar.local_date(completed_at)
        duration = working_days(calendar, hours, created_at, completed_at)
        overdue = due_at is not None and completed_at > due_at
        session.add(StepRollup(task_id=task_id, process_id=process_id, task_name=task_name, lane=lane,
                               completed_by=completed_by, completed_on=completed_on, working_days=duration,
                               overdue=overdue))
        figures.duration(completed_on, process_id, "step", task_name, duration, overdue)
        figures.completed(completed_on, process_id, lane, completed_by)
    session.execute(update(HumanTask).where(HumanTask.id.in_([r[0] for r in rows])).values(rolled_up=True)
                    .execution_options(synchronize_session=False))
    return len(rows)
