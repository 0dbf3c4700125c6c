"""What the files room needs of a working-day calendar.

The calendar itself is the SLA room's (:class:`app.sla.calendar.WorkingCalendar`, which fits this
Protocol); the files room is below the SLA room, which tracks files, so it names only the methods
it calls and is given the office calendar by its caller.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class WorkingDays(Protocol):
    @property
    def timezone(self) -> ZoneInfo: ...

    def local_date(self, dt: datetime) -> date: ...

    def add_working_days(self, d: date, n: int) -> date: ...
