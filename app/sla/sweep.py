"""The SLA sweep (Celery beat, every ``PTSP_SLA_SWEEP_SECONDS``).

It reads only rows whose indexed ``sla_next_check_at`` has passed (files and
steps) and deliveries whose indexed ``watch_at`` has passed, so its cost grows
with the clocks that change state, not with the open files. For each change it
writes the new state and next check and inserts the notices and deliveries in
the same transaction (outbox); the deliveries are enqueued after the commit.
Batches of ``sla_sweep_batch`` rows are one transaction each; rows locked by a
step being completed at that moment are skipped (PostgreSQL ``SKIP LOCKED``)
and taken by the next sweep, so the sweep never waits on a lock.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.models import HumanTask, TaskStatus
from app.files.models import ApplicationFile
from app.notify.services import NoticeDraft, create_notice_rows, requeue_due_deliveries
from app.parts import CoreParts
from app.sla import policy
from app.sla.calendar import WorkingCalendar
from app.sla.escalation import Directory, notice_detail, open_tasks_of
from app.sla.services import OfficeCalendar

log = logging.getLogger(__name__)


class SweepParts(CoreParts, Protocol):
    """What the SLA sweep needs of the container."""

    office_calendar: OfficeCalendar


@dataclass
class SweepResult:
    files_changed: int = 0
    tasks_changed: int = 0
    notices: int = 0
    deliveries_requeued: int = 0


Step = Callable[[Session, WorkingCalendar, datetime, SweepResult], int]


class SlaSweep:
    def __init__(self, c: SweepParts) -> None:
        self.c = c
        self.settings = c.settings
        self.hours = c.office_calendar.hours
        self.chain = policy.parse_escalation(c.settings.sla_escalation)
        self.file_thresholds = policy.Thresholds(c.settings.sla_warning_days, c.settings.sla_critical_days)
        self.task_thresholds = policy.Thresholds(c.settings.sla_task_warning_days, c.settings.sla_task_critical_days)
        self.requeue_after = timedelta(seconds=c.settings.notify_requeue_seconds)
        self.batch = max(1, c.settings.sla_sweep_batch)

    def run(self) -> SweepResult:
        result = SweepResult()
        while self._batch(self._files, result) == self.batch:
            pass
        while self._batch(self._tasks, result) == self.batch:
            pass
        with self.c.db.unit_of_work() as session:
            result.deliveries_requeued = requeue_due_deliveries(session, self.c.clock.now(), self.requeue_after)
        if result.files_changed or result.tasks_changed or result.deliveries_requeued:
            log.info("SLA sweep: %s", result)
        return result

    def _batch(self, step: Step, result: SweepResult) -> int:
        with self.c.db.unit_of_work() as session:
            now = self.c.clock.now()
            calendar = self.c.office_calendar.current(session)
            return step(session, calendar, now, result)

    # -- files ------------------------------------------------------------------------

    def _files(self, session: Session, calendar: WorkingCalendar, now: datetime, result: SweepResult) -> int:
        files = list(session.scalars(
            select(ApplicationFile).where(ApplicationFile.sla_next_check_at <= now)
            .order_by(ApplicationFile.sla_next_check_at).limit(self.batch).with_for_update(skip_locked=True)))
        escalated: list[tuple[ApplicationFile, str]] = []
        for file in files:
            if file.sla_due_at is None or file.sla_paused_at is not None or file.sla_stopped_at is not None:
                file.sla_next_check_at = None
                continue
            state, upcoming = policy.evaluate(calendar, self.hours, now, file.sla_due_at, self.file_thresholds)
            file.sla_next_check_at = upcoming
            if state == file.sla_state:
                continue
            old, file.sla_state = file.sla_state, state
            result.files_changed += 1
            if state == policy.BREACHED and not file.past_legal_limit:
                file.past_legal_limit = True
                file.past_legal_limit_at = file.sla_due_at
            if policy.is_escalation(old, state) and self.chain.get(state):
                escalated.append((file, state))
        if escalated:
            directory = Directory(session)
            steps = open_tasks_of(session, [f.instance_id for f, _ in escalated if f.instance_id is not None])
            drafts: list[NoticeDraft] = []
            for file, state in escalated:
                tasks = steps.get(file.instance_id or 0, [])
                assert file.sla_due_at is not None
                drafts += self._drafts(directory, calendar, now, file, None, tasks, state, file.sla_due_at)
            result.notices += self._create(session, drafts, now)
        return len(files)

    # -- steps ------------------------------------------------------------------------

    def _tasks(self, session: Session, calendar: WorkingCalendar, now: datetime, result: SweepResult) -> int:
        rows = session.execute(
            select(HumanTask, ApplicationFile)
            .outerjoin(ApplicationFile, ApplicationFile.instance_id == HumanTask.instance_id)
            .where(HumanTask.sla_next_check_at <= now)
            .order_by(HumanTask.sla_next_check_at).limit(self.batch)
            .with_for_update(of=HumanTask, skip_locked=True)).all()
        directory: Directory | None = None
        drafts: list[NoticeDraft] = []
        for task, file in rows:
            if task.status != TaskStatus.OPEN or task.due_at is None:
                task.sla_next_check_at = None
                continue
            state, upcoming = policy.evaluate(calendar, self.hours, now, task.due_at, self.task_thresholds)
            task.sla_next_check_at = upcoming
            if state == task.sla_state:
                continue
            old, task.sla_state = task.sla_state, state
            result.tasks_changed += 1
            if file is not None and policy.is_escalation(old, state) and self.chain.get(state):
                directory = directory or Directory(session)
                drafts += self._drafts(directory, calendar, now, file, task, [task], state, task.due_at)
        result.notices += self._create(session, drafts, now)
        return len(rows)

    # -- notices ----------------------------------------------------------------------

    def _drafts(self, directory: Directory, calendar: WorkingCalendar, now: datetime, file: ApplicationFile,
                task: HumanTask | None, tasks: list[HumanTask], level: str, due: datetime) -> list[NoticeDraft]:
        recipients = directory.resolve(self.chain[level], file.process_id, tasks)
        if not recipients:
            log.warning("file %s reached %s but no one is set to be told (escalation %s)", file.file_number, level,
                        self.settings.sla_escalation, extra={"file_number": file.file_number})
            return []
        detail = notice_detail(directory, calendar, self.hours, file_number=file.file_number,
                               process_id=file.process_id, tasks=tasks, due=due, now=now,
                               scope="task" if task is not None else "file")
        task_id = task.id if task is not None else None
        return [NoticeDraft(file.id, task_id, level, user, detail) for user in recipients]

    def _create(self, session: Session, drafts: list[NoticeDraft], now: datetime) -> int:
        return len(create_notice_rows(session, drafts, now=now, email=self.settings.notify_email,
                                      requeue_after=self.requeue_after))


def sla_sweep(c: SweepParts) -> SweepResult:
    """Move every SLA state that is due to change, with its notices (one call of the beat job)."""
    return SlaSweep(c).run()
