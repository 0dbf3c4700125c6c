"""Deadline arithmetic in working time: office hours, pauses, year ends and holidays."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla.calendar import WorkingCalendar
from app.sla.hours import (
    OfficeHours,
    add_working_time,
    deadline_after,
    subtract_working_time,
    working_days_left,
    working_time_between,
)

WIB = ZoneInfo("Asia/Jakarta")
HOURS = OfficeHours.parse("08:00-16:00")
DAY = HOURS.day_length
CAL = WorkingCalendar()
# An administrator's changes: a decree adds a holiday, another cancels one.
ADMIN = WorkingCalendar(extra_holidays={date(2026, 1, 7), date(2027, 1, 4)}, removed_holidays={date(2026, 3, 20)})
calendars = st.sampled_from([CAL, ADMIN, WorkingCalendar(include_cuti_bersama=False)])


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


# Instants around year ends (Christmas, cuti bersama, New Year) and Idul Fitri 2026.
instants = st.one_of(
    st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 4, 30), timezones=st.just(UTC)),
    st.builds(lambda year, minutes: datetime(year, 12, 20, tzinfo=WIB) + timedelta(minutes=minutes),
              st.integers(2025, 2029), st.integers(0, 20 * 24 * 60)),
)
amounts = st.builds(lambda minutes: timedelta(minutes=minutes), st.integers(0, 25 * 8 * 60))


def local_time(cal: WorkingCalendar, when: datetime) -> time:
    return when.astimezone(cal.timezone).time()


# -- hand-checked examples ----------------------------------------------------------


def test_ten_working_days_end_at_close_of_the_tenth_working_day() -> None:
    # Monday 5 January 2026, 08:00 WIB; Friday 16 January is Isra Mi'raj.
    due = deadline_after(CAL, HOURS, datetime(2026, 1, 5, 1, 0, tzinfo=UTC), 10)
    assert due == wib(2026, 1, 20, 16, 0)
    assert due.tzinfo == UTC


def test_deadline_across_the_year_end_skips_christmas_cuti_bersama_and_new_year() -> None:
    start = wib(2025, 12, 24, 14, 0)  # Wednesday; 25 Christmas, 26 cuti bersama
    assert deadline_after(CAL, HOURS, start, 3) == wib(2025, 12, 31, 16, 0)
    assert deadline_after(CAL, HOURS, start, 5) == wib(2026, 1, 5, 16, 0)  # 1 January closed, 2 January open


def test_a_start_after_hours_or_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert deadline_after(CAL, HOURS, wib(2026, 1, 5, 20, 0), 1) == wib(2026, 1, 6, 16, 0)
    assert deadline_after(CAL, HOURS, wib(2026, 1, 1, 9, 0), 1) == wib(2026, 1, 2, 16, 0)
    assert deadline_after(CAL, HOURS, wib(2026, 1, 3, 9, 0), 0) == wib(2026, 1, 5, 16, 0)  # Saturday, n=0


def test_a_pause_extends_the_deadline_by_the_working_time_it_lasted() -> None:
    due = wib(2026, 1, 20, 16, 0)
    paused = working_time_between(CAL, HOURS, wib(2026, 1, 7, 14, 0), wib(2026, 1, 9, 10, 0))
    assert paused == timedelta(hours=12)  # Wed 2 h + Thu 8 h + Fri 2 h
    assert add_working_time(CAL, HOURS, due, paused) == wib(2026, 1, 22, 12, 0)
    # A pause over a weekend and a night costs nothing.
    assert working_time_between(CAL, HOURS, wib(2026, 1, 9, 16, 0), wib(2026, 1, 12, 8, 0)) == timedelta(0)


def test_thresholds_on_a_day_boundary_fall_at_the_next_opening() -> None:
    due = wib(2026, 1, 20, 16, 0)
    assert subtract_working_time(CAL, HOURS, due, 3 * DAY) == wib(2026, 1, 15, 8, 0)  # 16 Jan is a holiday
    assert subtract_working_time(CAL, HOURS, due, DAY) == wib(2026, 1, 20, 8, 0)
    assert subtract_working_time(CAL, HOURS, due, DAY / 2) == wib(2026, 1, 20, 12, 0)
    assert working_days_left(CAL, HOURS, wib(2026, 1, 19, 12, 0), due) == 1.5
    assert working_days_left(CAL, HOURS, wib(2026, 1, 21, 12, 0), due) == -0.5


def test_an_administrators_holiday_moves_the_deadline() -> None:
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    assert deadline_after(ADMIN, HOURS, start, 10) == deadline_after(CAL, HOURS, start, 11)


@pytest.mark.parametrize("text", ["", "8-16", "16:00-08:00", "08:00-08:00", "25:00-26:00", "08:61-16:00"])
def test_bad_office_hours_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="office hours"):
        OfficeHours.parse(text)


def test_office_hours_parse() -> None:
    assert OfficeHours.parse(" 07:30 - 15:30 ") == OfficeHours(time(7, 30), time(15, 30))
    assert OfficeHours.parse("07:30-15:30").day_length == timedelta(hours=8)
    assert str(HOURS) == "08:00-16:00"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        working_time_between(CAL, HOURS, datetime(2026, 1, 5, 8), datetime(2026, 1, 6, 8))


# -- properties ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=instants, n=st.integers(0, 40))
def test_a_deadline_is_the_close_of_the_nth_working_day(cal: WorkingCalendar, start: datetime, n: int) -> None:
    due = deadline_after(cal, HOURS, start, n)
    local = due.astimezone(cal.timezone)
    assert local.time() == HOURS.closes
    assert cal.is_working_day(local.date())
    if n:
        assert cal.working_days_between(cal.local_date(start), local.date()) == n
    else:  # the start date when it is a working day, else the next one
        assert local.date() == cal.add_working_days(cal.local_date(start), 0)
    # A clock started at an opening has exactly n + 1 office days (the start day counts
    # for nothing only when the clock starts after it closed).
    assert working_time_between(cal, HOURS, start, due) <= (n + 1) * DAY


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=instants, amount=amounts)
def test_adding_working_time_round_trips_and_lands_in_office_hours(cal: WorkingCalendar, start: datetime,
                                                                   amount: timedelta) -> None:
    end = add_working_time(cal, HOURS, start, amount)
    assert end >= start
    assert working_time_between(cal, HOURS, start, end) == amount
    if amount:
        local = end.astimezone(cal.timezone)
        assert cal.is_working_day(local.date())
        assert HOURS.opens < local.time() <= HOURS.closes  # the earliest such instant


@settings(max_examples=200, deadline=None)
@given(cal=calendars, end=instants, amount=amounts)
def test_subtracting_working_time_round_trips_and_lands_in_office_hours(cal: WorkingCalendar, end: datetime,
                                                                        amount: timedelta) -> None:
    start = subtract_working_time(cal, HOURS, end, amount)
    assert start <= end
    assert working_time_between(cal, HOURS, start, end) == amount
    if amount:
        local = start.astimezone(cal.timezone)
        assert cal.is_working_day(local.date())
        assert HOURS.opens <= local.time() < HOURS.closes  # the latest such instant


@settings(max_examples=150, deadline=None)
@given(cal=calendars, a=instants, b=instants, c=instants)
def test_working_time_is_additive_and_antisymmetric(cal: WorkingCalendar, a: datetime, b: datetime,
                                                    c: datetime) -> None:
    ab, bc, ac = (working_time_between(cal, HOURS, x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert working_time_between(cal, HOURS, b, a) == -ab


@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=instants, n=st.integers(1, 15), pause_at=amounts, pause_for=amounts)
def test_paused_working_time_extends_the_deadline_by_exactly_that_much(
        cal: WorkingCalendar, start: datetime, n: int, pause_at: timedelta, pause_for: timedelta) -> None:
    due = deadline_after(cal, HOURS, start, n)
    paused = add_working_time(cal, HOURS, start, pause_at)
    resumed = add_working_time(cal, HOURS, paused, pause_for)
    extended = add_working_time(cal, HOURS, due, working_time_between(cal, HOURS, paused, resumed))
    # The working time the clock ran (start to the new due, less the pause) is the original allowance.
    ran = working_time_between(cal, HOURS, start, extended) - working_time_between(cal, HOURS, paused, resumed)
    assert ran == working_time_between(cal, HOURS, start, due)
    assert extended >= due
