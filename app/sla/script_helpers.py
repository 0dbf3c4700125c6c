"""Date and working-day helpers for diagram scripts, over the office calendar.

The engine does not import this room: the container hands these functions to the script
sandbox (``make_script_engine(helpers=...)``). With the process pool they run here, in the
calling process, and only JSON-able values cross to the script process.

  ``today()``                   office-local date (``date``) of the clock's now.
  ``now()``                     aware UTC ``datetime`` from the clock.
  ``parse_date(value)``         ``date`` from ``"2026-01-31"``, an ISO datetime string
                                (aware: office-local date), a ``date`` or ``datetime``.
  ``add_days(value, n)``        ISO date string ``n`` calendar days after ``value``.
  ``add_working_days(value, n)`` ISO date string: the n-th working day after
                                ``value`` (``n >= 0``; ``n == 0`` gives ``value`` if it
                                is a working day, else the next working day).
  ``working_days_between(a, b)`` working days in ``(a, b]`` (negative if ``b < a``).
  ``iso_days(n)``               ISO 8601 duration ``"P{n}D"`` for timer expressions (``n >= 0``).
  ``working_days_from_now(n)``  aware ISO datetime (office-local offset) of the close of
                                office hours on the n-th working day after today, for
                                ``timeDate`` timers (``n >= 0``; see app/sla/hours.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.clock import Clock
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, deadline_after

# The office calendar, or a function returning it as it is now (administrators change it).
CalendarSource = WorkingCalendar | Callable[[], WorkingCalendar]

_MAX_SPAN_DAYS = 3_700
_MAX_WORKING_DAYS = 2_600


def _int_arg(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what}: n must be an int, got {type(n).__name__}")
    return n


def script_helpers(source: CalendarSource, clock: Clock, hours: OfficeHours | None = None) -> dict[str, Any]:
    """The date and working-day helpers of diagram scripts, over the office calendar (or a
    function returning it as it is now) and the injected clock."""
    office_hours = hours or OfficeHours()
    current: Callable[[], WorkingCalendar] = (
        (lambda: source) if isinstance(source, WorkingCalendar) else source)

    def today() -> date:
        """Office-local date of the clock's now."""
        return current().local_date(clock.now())

    def now() -> datetime:
        """Aware UTC datetime from the clock."""
        return clock.now().astimezone(UTC)

    def parse_date(value: Any) -> date:
        """A date from an ISO date/datetime string, a date or a datetime."""
        if isinstance(value, datetime):
            aware = value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None
            return current().local_date(value) if aware else value.date()
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise TypeError(f"parse_date needs an ISO date string or a date, got {type(value).__name__}")
        text = value.strip()
        if len(text) > 64:
            raise ValueError("parse_date: text too long for a date")
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return parse_date(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(f"parse_date: {value!r} is not an ISO 8601 date such as '2026-01-31'") from None

    def add_days(value: Any, n: int) -> str:
        """ISO date ``n`` calendar days after ``value``."""
        n = _int_arg(n, "add_days")
        if abs(n) > 36_600:
            raise ValueError("add_days: n must be between -36600 and 36600")
        return (parse_date(value) + timedelta(days=n)).isoformat()

    def add_working_days(value: Any, n: int) -> str:
        """ISO date of the n-th working day after ``value`` (n >= 0)."""
        n = _int_arg(n, "add_working_days")
        if n < 0:
            raise ValueError("add_working_days: n must be >= 0")
        if n > _MAX_WORKING_DAYS:
            raise ValueError(f"add_working_days: n must be at most {_MAX_WORKING_DAYS}")
        return current().add_working_days(parse_date(value), n).isoformat()

    def working_days_between(a: Any, b: Any) -> int:
        """Working days in (a, b]; negative when b < a."""
        start, end = parse_date(a), parse_date(b)
        if abs((end - start).days) > _MAX_SPAN_DAYS:
            raise ValueError(f"working_days_between: dates more than {_MAX_SPAN_DAYS} days apart")
        return current().working_days_between(start, end)

    def iso_days(n: int) -> str:
        """ISO 8601 duration of n days, e.g. 'P3D' (n >= 0)."""
        n = _int_arg(n, "iso_days")
        if n < 0:
            raise ValueError("iso_days: n must be >= 0")
        return f"P{n}D"

    def working_days_from_now(n: int) -> str:
        """Close of office hours of the n-th working day after today, as an aware ISO datetime."""
        n = _int_arg(n, "working_days_from_now")
        if n < 0:
            raise ValueError("working_days_from_now: n must be >= 0")
        if n > _MAX_WORKING_DAYS:
            raise ValueError(f"working_days_from_now: n must be at most {_MAX_WORKING_DAYS}")
        calendar = current()
        due = deadline_after(calendar, office_hours, clock.now(), n)
        return due.astimezone(calendar.timezone).isoformat()

    return {
        "today": today,
        "now": now,
        "parse_date": parse_date,
        "add_days": add_days,
        "add_working_days": add_working_days,
        "working_days_between": working_days_between,
        "iso_days": iso_days,
        "working_days_from_now": working_days_from_now,
    }
