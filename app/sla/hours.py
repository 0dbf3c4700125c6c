"""Office hours and working time (pure: no database, no clock).

Deadlines are instants, not dates: *a deadline of n working days ends at the
close of office hours (local time) of the n-th working day* after the day the
clock started (``WorkingCalendar.add_working_days``: the start day itself never
counts; ``n == 0`` is the close of the start day if it is a working day, else of
the next working day). Deadlines are returned as aware UTC datetimes.

*Working time* is the time inside office hours on working days. A pause (the
file waits on the applicant) extends a deadline by the working time it lasted,
and "working days left" is working time left divided by the length of one
office day. Arithmetic is done on local wall-clock time with ``timedelta``
(integer microseconds), so it is exact:

* ``working_time_between(a, add_working_time(a, w)) == w`` for every ``w >= 0``;
  ``add_working_time`` returns the *earliest* such instant (a deadline that
  uses up a whole office day ends at its close, not at the next opening).
* ``working_time_between(subtract_working_time(b, w), b) == w``;
  ``subtract_working_time`` returns the *latest* such instant (a threshold that
  falls on a day boundary is the next day's opening, so notices go out when the
  office is open).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.sla.calendar import WorkingCalendar

__all__ = [
    "OfficeHours", "add_working_time", "deadline_after", "subtract_working_time",
    "working_days_left", "working_time_between",
]

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class OfficeHours:
    """Opening and closing time of the office, in its local time."""

    opens: time = time(8, 0)
    closes: time = time(16, 0)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"office hours must open before they close, got {self.opens:%H:%M}-{self.closes:%H:%M}")

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """``"08:00-16:00"`` (24-hour clock, local time)."""
        match = _HOURS.match(text or "")
        if not match:
            raise ValueError(f"office hours {text!r} are not of the form HH:MM-HH:MM, e.g. 08:00-16:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"office hours {text!r} are not valid times")
        closes = time.max if h2 == 24 else time(h2, m2)
        return cls(time(h1, m1), closes)

    @property
    def day_length(self) -> timedelta:
        """Working time of one full office day."""
        return _wall(date(2000, 1, 3), self.closes) - _wall(date(2000, 1, 3), self.opens)

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


def _wall(d: date, t: time) -> datetime:
    return datetime.combine(d, t)


def _to_wall(calendar: WorkingCalendar, when: datetime) -> datetime:
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        raise ValueError("working-time arithmetic needs timezone-aware datetimes")
    return when.astimezone(calendar.timezone).replace(tzinfo=None)


def _from_wall(calendar: WorkingCalendar, wall: datetime) -> datetime:
    return wall.replace(tzinfo=calendar.timezone).astimezone(UTC)


def _previous_working_day(calendar: WorkingCalendar, d: date, n: int = 1) -> date:
    """The n-th working day strictly before ``d`` (n >= 1)."""
    current = d
    while n:
        current -= _ONE_DAY
        if calendar.is_working_day(current):
            n -= 1
    return current


def deadline_after(calendar: WorkingCalendar, hours: OfficeHours, start: datetime, working_days: int) -> datetime:
    """Close of office hours of the ``working_days``-th working day after ``start``'s local date."""
    day = calendar.add_working_days(calendar.local_date(start), working_days)
    return _from_wall(calendar, _wall(day, hours.closes))


def _office_part(calendar: WorkingCalendar, hours: OfficeHours, d: date, lo: datetime, hi: datetime) -> timedelta:
    """Working time of date ``d`` inside the wall-clock interval [lo, hi]."""
    if not calendar.is_working_day(d):
        return timedelta(0)
    start = max(lo, _wall(d, hours.opens))
    end = min(hi, _wall(d, hours.closes))
    return max(end - start, timedelta(0))


def working_time_between(calendar: WorkingCalendar, hours: OfficeHours, a: datetime, b: datetime) -> timedelta:
    """Working time in [a, b]; negative when ``b < a``."""
    if b < a:
        return -working_time_between(calendar, hours, b, a)
    wa, wb = _to_wall(calendar, a), _to_wall(calendar, b)
    da, db = wa.date(), wb.date()
    if da == db:
        return _office_part(calendar, hours, da, wa, wb)
    first = _office_part(calendar, hours, da, wa, _wall(da, time.max))
    last = _office_part(calendar, hours, db, _wall(db, time.min), wb)
    full_days = calendar.working_days_between(da, db - _ONE_DAY)  # working days strictly between
    return first + full_days * hours.day_length + last


def add_working_time(calendar: WorkingCalendar, hours: OfficeHours, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant with ``amount`` of working time after ``start`` (``amount >= 0``)."""
    if amount < timedelta(0):
        raise ValueError("amount must be >= 0; use subtract_working_time")
    if not amount:
        return start
    wall = _to_wall(calendar, start)
    d = wall.date()
    left = amount
    if calendar.is_working_day(d):
        begin = max(wall, _wall(d, hours.opens))
        available = max(_wall(d, hours.closes) - begin, timedelta(0))
        if left <= available:
            return _from_wall(calendar, begin + left)
        left -= available
    length = hours.day_length
    full, rest = divmod(left, length)
    if not rest:  # ends exactly at a close of office hours
        return _from_wall(calendar, _wall(calendar.add_working_days(d, full), hours.closes))
    day = calendar.add_working_days(d, full + 1)
    return _from_wall(calendar, _wall(day, hours.opens) + rest)


def subtract_working_time(calendar: WorkingCalendar, hours: OfficeHours, end: datetime, amount: timedelta) -> datetime:
    """The latest instant with ``amount`` of working time before ``end`` (``amount >= 0``)."""
    if amount < timedelta(0):
        raise ValueError("amount must be >= 0; use add_working_time")
    if not amount:
        return end
    wall = _to_wall(calendar, end)
    d = wall.date()
    left = amount
    if calendar.is_working_day(d):
        finish = min(wall, _wall(d, hours.closes))
        available = max(finish - _wall(d, hours.opens), timedelta(0))
        if left <= available:
            return _from_wall(calendar, finish - left)
        left -= available
    length = hours.day_length
    full, rest = divmod(left, length)
    if not rest:  # starts exactly at an opening
        return _from_wall(calendar, _wall(_previous_working_day(calendar, d, full), hours.opens))
    day = _previous_working_day(calendar, d, full + 1)
    return _from_wall(calendar, _wall(day, hours.closes) - rest)


def working_days_left(calendar: WorkingCalendar, hours: OfficeHours, now: datetime, due: datetime) -> float:
    """Working days from ``now`` to ``due`` (negative when past it), in office days."""
    return working_time_between(calendar, hours, now, due) / hours.day_length
