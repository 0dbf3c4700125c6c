"""Working-day calendar for SLA deadlines (pure: no database, no clock).

The legal clock of a permit counts *hari kerja* (working days). A date is a
working day when all of these hold:

* it is Monday to Friday;
* it is not an Indonesian public holiday (``holidays`` package, country
  ``"ID"``, category ``PUBLIC``);
* if ``include_cuti_bersama`` is true (the default), it is not a *cuti bersama*
  day (collective leave set by joint ministerial decree; the package keeps them
  in its ``GOVERNMENT`` category);
* it is not in ``extra_holidays`` (days an administrator declared non-working).

``removed_holidays`` cancels a holiday on that date (a library holiday, a cuti
bersama day): the date counts again as a working day *if it is Monday to
Friday*. It does not turn a Saturday or Sunday into a working day. A date may
not be both in ``extra_holidays`` and in ``removed_holidays``.

Counting rules (chosen so that they agree with each other):

* ``add_working_days(d, n)`` for ``n >= 1`` is the n-th working day strictly
  after ``d`` (``d`` itself never counts, working or not). For ``n == 0`` it is
  ``d`` when ``d`` is a working day, otherwise the next working day after ``d``
  ("the deadline falls on the first working day on or after ``d``").
* ``working_days_between(start, end)`` is the number of working days in the
  half-open interval ``(start, end]``; it is negative (``-count((end, start])``)
  when ``end < start``.
* Hence ``working_days_between(d, add_working_days(d, n)) == n`` for every
  working day ``d`` and every ``n >= 0`` (and for every ``d`` when ``n >= 1``).

Islamic holidays for future years are the package's estimates; decrees move
them at short notice, which is what ``extra_holidays``/``removed_holidays`` are
for.
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = ["WorkingCalendar"]

_PUBLIC = ("public",)
_PUBLIC_AND_CUTI_BERSAMA = ("public", "government")


def _weekdays_through(ordinal: int) -> int:
    """Number of Monday-Friday dates with ``1 <= toordinal() <= ordinal``.

    ``date.fromordinal(1)`` (0001-01-01) is a Monday, so ordinals repeat the
    pattern Mon..Sun every 7 days starting at 1.
    """
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


class WorkingCalendar:
    """Which dates are working days in the office, and arithmetic on them."""

    def __init__(
        self,
        include_cuti_bersama: bool = True,
        extra_holidays: Iterable[date] = (),
        removed_holidays: Iterable[date] = (),
        timezone: str = "Asia/Jakarta",
    ) -> None:
        self.include_cuti_bersama = bool(include_cuti_bersama)
        self.extra_holidays: frozenset[date] = frozenset(_as_date(d) for d in extra_holidays)
        self.removed_holidays: frozenset[date] = frozenset(_as_date(d) for d in removed_holidays)
        both = self.extra_holidays & self.removed_holidays
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates both added and removed as holidays: {listed}")
        self.timezone = ZoneInfo(timezone)
        self.categories = _PUBLIC_AND_CUTI_BERSAMA if self.include_cuti_bersama else _PUBLIC
        # year -> sorted list of non-working Monday-Friday dates of that year
        self._closed_by_year: dict[int, tuple[list[date], frozenset[date]]] = {}
        self._names_by_year: dict[int, dict[date, str]] = {}
        self._lock = threading.Lock()

    # -- holiday data ---------------------------------------------------------------

    def holidays_in_year(self, year: int) -> dict[date, str]:
        """The library's holidays of ``year`` for the configured categories
        (before ``extra_holidays``/``removed_holidays`` are applied)."""
        names = self._names_by_year.get(year)
        if names is None:
            lib = holidays.country_holidays("ID", years=year, categories=self.categories, language="id")  # not $LANG
            names = {d: str(name) for d, name in lib.items() if d.year == year}
            with self._lock:
                self._names_by_year[year] = names
        return dict(names)

    def _closed_weekdays(self, year: int) -> tuple[list[date], frozenset[date]]:
        """Monday-Friday dates of ``year`` that are not working days (sorted, set)."""
        cached = self._closed_by_year.get(year)
        if cached is not None:
            return cached
        closed = set(self.holidays_in_year(year)) - self.removed_holidays
        closed |= {d for d in self.extra_holidays if d.year == year}
        weekdays_only = sorted(d for d in closed if d.weekday() < 5)
        result = (weekdays_only, frozenset(weekdays_only))
        with self._lock:
            self._closed_by_year[year] = result
        return result

    # -- queries ----------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` is Monday-Friday and not a holiday (see module doc)."""
        d = _as_date(d)
        if d.weekday() >= 5:
            return False
        return d not in self._closed_weekdays(d.year)[1]

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after ``d``; ``n == 0``: ``d`` if it is a working
        day, else the next working day. ``n`` must be >= 0."""
        d = _as_date(d)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("n must be an int")
        if n < 0:
            raise ValueError("n must be >= 0")
        current = d
        if n == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = n
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end < start``."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        weekdays = _weekdays_through(end.toordinal()) - _weekdays_through(start.toordinal())
        closed = 0
        for year in range(start.year, end.year + 1):
            ordered, _ = self._closed_weekdays(year)
            lo = bisect.bisect_right(ordered, start) if year == start.year else 0
            hi = bisect.bisect_right(ordered, end) if year == end.year else len(ordered)
            closed += hi - lo
        return weekdays - closed

    def local_date(self, dt: datetime) -> date:
        """The office-local calendar date of an aware datetime."""
        if not isinstance(dt, datetime):
            raise TypeError("local_date needs a datetime")
        if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
            raise ValueError("local_date needs a timezone-aware datetime")
        return dt.astimezone(self.timezone).date()

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(include_cuti_bersama={self.include_cuti_bersama}, "
            f"extra_holidays={len(self.extra_holidays)} dates, "
            f"removed_holidays={len(self.removed_holidays)} dates, timezone={self.timezone.key!r})"
        )


def _as_date(d: date) -> date:
    """Accept a ``date`` (a ``datetime`` is refused: use ``local_date`` first)."""
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d
