"""The one date promised to the applicant: the legal deadline the file's SLA clock holds.

The receipt, ``/track``, the file page, the worklist and the API all show this date, so
they can never disagree. The law counts the limit in working days from the day the file
is declared complete and correct (not from registration), so:

- before the documents are declared complete, the date is what it would be if they were
  declared complete today (on the day of registration that is the date the receipt prints);
- while the clock runs, it is the local date of ``ApplicationFile.sla_due_at``;
- while the clock is paused (documents returned, fee unpaid), the deadline moves later by the
  working time the pause has lasted so far, as it will when the clock resumes
  (:class:`app.sla.tracking.SlaTracker`);
- once the procedure has ended it is the deadline as it stood when the clock stopped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.config import Settings
from app.files.models import ApplicationFile
from app.files.services import promised_working_days
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, add_working_time, deadline_after, working_time_between
from app.sla.services import OfficeCalendar

NOT_STARTED = "not_started"  # waiting for the documents to be declared complete
RUNNING = "running"
PAUSED = "paused"  # waiting on the applicant
STOPPED = "stopped"  # the procedure has ended


@dataclass(frozen=True)
class Promise:
    """The promised date and the state of the clock behind it."""

    due_at: datetime | None
    date: date | None
    clock: str
    working_days: int


def promise(file: ApplicationFile, calendar: WorkingCalendar, hours: OfficeHours, working_days: int,
            now: datetime) -> Promise:
    """The deadline the SLA clock of ``file`` holds (or would hold) at ``now``."""
    limit = file.sla_limit_days or working_days
    if file.sla_due_at is None:
        if file.sla_stopped_at is not None or file.sla_started_at is not None:
            # Ended before the documents were ever declared complete: the date made at registration.
            return Promise(None, file.promised_date, STOPPED, limit)
        start = max(now, file.created_at) if file.created_at is not None else now
        due = deadline_after(calendar, hours, start, limit)
        return Promise(due, calendar.local_date(due), NOT_STARTED, limit)
    due = file.sla_due_at
    if file.sla_stopped_at is not None:
        return Promise(due, calendar.local_date(due), STOPPED, limit)
    if file.sla_paused_at is not None:
        paused = working_time_between(calendar, hours, file.sla_paused_at, max(now, file.sla_paused_at))
        due = add_working_time(calendar, hours, due, paused)
        return Promise(due, calendar.local_date(due), PAUSED, limit)
    return Promise(due, calendar.local_date(due), RUNNING, limit)


def promise_of(file: ApplicationFile, office_calendar: OfficeCalendar, settings: Settings, now: datetime) -> Promise:
    """:func:`promise` with the office's calendar and hours and the catalogue's limit."""
    return promise(file, office_calendar.current(), office_calendar.hours,
                   promised_working_days(file.process_id, settings), now)

