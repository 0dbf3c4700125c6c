from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla.calendar import WorkingCalendar

WITH_CUTI = WorkingCalendar()
WITHOUT_CUTI = WorkingCalendar(include_cuti_bersama=False)

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
year_ends = st.builds(
    lambda year, offset: date(year, 12, 31) + timedelta(days=offset),
    st.integers(2024, 2029),
    st.integers(-20, 20),
)
any_date = st.one_of(dates, year_ends)
counts = st.integers(min_value=0, max_value=400)
calendars = st.sampled_from([WITH_CUTI, WITHOUT_CUTI])


def brute_count(cal: WorkingCalendar, start: date, end: date) -> int:
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    n = 0
    d = start + timedelta(days=1)
    while d <= end:
        n += cal.is_working_day(d)
        d += timedelta(days=1)
    return sign * n


# -- library facts this module relies on --------------------------------------------


def test_cuti_bersama_2026_03_20_is_in_government_category_only() -> None:
    import holidays

    public = holidays.country_holidays("ID", years=2026, categories=("public",))
    both = holidays.country_holidays("ID", years=2026, categories=("public", "government"))
    assert date(2026, 3, 20) not in public
    assert date(2026, 3, 20) in both
    assert len(public) == 17 and len(both) == 25  # 17 public holidays + 8 cuti bersama

    assert date(2026, 3, 20).weekday() == 4  # a Friday
    assert not WITH_CUTI.is_working_day(date(2026, 3, 20))
    assert WITHOUT_CUTI.is_working_day(date(2026, 3, 20))
    # a public holiday is closed either way (Nyepi, Thursday 19 March 2026)
    assert not WITH_CUTI.is_working_day(date(2026, 3, 19))
    assert not WITHOUT_CUTI.is_working_day(date(2026, 3, 19))


# -- hand-checked examples ----------------------------------------------------------


def test_ten_working_days_across_idul_fitri_2026_with_cuti_bersama() -> None:
    # From Monday 16 March 2026:
    # 17 Tue (1) | 18 Wed cuti | 19 Thu Nyepi | 20 Fri cuti | 21-22 weekend (Idul Fitri)
    # 23 Mon cuti | 24 Tue cuti | 25 (2) 26 (3) 27 (4) 30 (5) 31 (6) Apr 1 (7) 2 (8)
    # Apr 3 Good Friday | 6 (9) | 7 (10)
    assert WITH_CUTI.add_working_days(date(2026, 3, 16), 10) == date(2026, 4, 7)
    assert WITH_CUTI.working_days_between(date(2026, 3, 16), date(2026, 4, 7)) == 10


def test_ten_working_days_across_idul_fitri_2026_without_cuti_bersama() -> None:
    # 17 (1) 18 (2) | 19 Nyepi | 20 (3) | weekend | 23 (4) 24 (5) 25 (6) 26 (7) 27 (8) 30 (9) 31 (10)
    assert WITHOUT_CUTI.add_working_days(date(2026, 3, 16), 10) == date(2026, 3, 31)


def test_zero_days_rule() -> None:
    assert WITH_CUTI.add_working_days(date(2026, 3, 16), 0) == date(2026, 3, 16)  # working Monday
    assert WITH_CUTI.add_working_days(date(2026, 3, 18), 0) == date(2026, 3, 25)  # cuti -> next working
    assert WITH_CUTI.add_working_days(date(2026, 1, 3), 0) == date(2026, 1, 5)  # Saturday -> Monday


def test_year_end() -> None:
    # 24 Dec 2026 cuti, 25 Christmas, 26-27 weekend, 1 Jan New Year, 2 Jan Friday
    assert WITH_CUTI.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    # 31 Dec 2026 Thursday -> 1 Jan 2027 New Year (Friday), weekend -> Monday 4 Jan
    assert WITH_CUTI.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert WITH_CUTI.working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == 1
    assert WITH_CUTI.working_days_between(date(2026, 12, 23), date(2026, 12, 28)) == 1
    assert WITH_CUTI.working_days_between(date(2026, 12, 28), date(2026, 12, 23)) == -1


def test_counts_and_negative() -> None:
    monday, friday = date(2026, 1, 5), date(2026, 1, 9)
    assert WITH_CUTI.working_days_between(monday, friday) == 4
    assert WITH_CUTI.working_days_between(friday, monday) == -4
    assert WITH_CUTI.working_days_between(monday, monday) == 0


def test_extra_and_removed_holidays() -> None:
    tuesday = date(2026, 1, 6)
    cal = WorkingCalendar(extra_holidays={tuesday}, removed_holidays={date(2026, 3, 20)})
    assert not cal.is_working_day(tuesday)
    assert cal.is_working_day(date(2026, 3, 20))  # cuti bersama cancelled
    assert cal.add_working_days(date(2026, 1, 5), 1) == date(2026, 1, 7)
    assert cal.working_days_between(date(2026, 1, 5), date(2026, 1, 9)) == 3
    # removing a holiday does not make a weekend a working day
    assert not WorkingCalendar(removed_holidays={date(2026, 3, 21)}).is_working_day(date(2026, 3, 21))
    # removing a public holiday on a weekday
    assert WorkingCalendar(removed_holidays={date(2026, 3, 19)}).is_working_day(date(2026, 3, 19))
    with pytest.raises(ValueError):
        WorkingCalendar(extra_holidays={tuesday}, removed_holidays={tuesday})


def test_local_date() -> None:
    # 17:00 UTC is midnight in Jakarta (UTC+7)
    assert WITH_CUTI.local_date(datetime(2026, 1, 4, 16, 59, tzinfo=UTC)) == date(2026, 1, 4)
    assert WITH_CUTI.local_date(datetime(2026, 1, 4, 17, 0, tzinfo=UTC)) == date(2026, 1, 5)
    assert WorkingCalendar(timezone="Asia/Jayapura").local_date(
        datetime(2026, 1, 4, 15, 0, tzinfo=UTC)
    ) == date(2026, 1, 5)
    with pytest.raises(ValueError):
        WITH_CUTI.local_date(datetime(2026, 1, 4, 12, 0))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        WITH_CUTI.add_working_days(date(2026, 1, 5), -1)
    with pytest.raises(TypeError):
        WITH_CUTI.is_working_day(datetime(2026, 1, 5, tzinfo=UTC))  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cal=calendars, d=any_date, n=counts)
def test_round_trip_add_then_count(cal: WorkingCalendar, d: date, n: int) -> None:
    result = cal.add_working_days(d, n)
    assert result >= d
    assert cal.is_working_day(result)
    if cal.is_working_day(d) or n >= 1:
        assert cal.working_days_between(d, result) == n
    else:
        assert cal.working_days_between(d, result) == 1  # n == 0 from a closed day
    # nothing working is skipped between the n-1-th and n-th working day
    if n >= 1:
        lower = cal.add_working_days(d, n - 1) if n > 1 else d
        day = lower + timedelta(days=1)
        while day < result:
            assert not cal.is_working_day(day)
            day += timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(cal=calendars, a=any_date, span=st.integers(-400, 400))
def test_count_matches_brute_force_and_is_antisymmetric(cal: WorkingCalendar, a: date, span: int) -> None:
    b = a + timedelta(days=span)
    assert cal.working_days_between(a, b) == brute_count(cal, a, b)
    assert cal.working_days_between(a, b) == -cal.working_days_between(b, a)


@settings(max_examples=60, deadline=None)
@given(d=dates, n=counts)
def test_holidays_never_counted(d: date, n: int) -> None:
    result = WITH_CUTI.add_working_days(d, n)
    names = {}
    for year in range(d.year, result.year + 1):
        names.update(WITH_CUTI.holidays_in_year(year))
    day = d
    while day <= result:
        if day in names or day.weekday() >= 5:
            assert not WITH_CUTI.is_working_day(day)
            # a closed day never changes the count
            assert WITH_CUTI.working_days_between(day - timedelta(days=1), day) == 0
        day += timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(d=dates)
def test_cuti_bersama_toggle(d: date) -> None:
    cuti = set(WorkingCalendar().holidays_in_year(d.year)) - set(
        WorkingCalendar(include_cuti_bersama=False).holidays_in_year(d.year)
    )
    if d in cuti and d.weekday() < 5:
        assert not WITH_CUTI.is_working_day(d)
        assert WITHOUT_CUTI.is_working_day(d)
    else:
        assert WITH_CUTI.is_working_day(d) == WITHOUT_CUTI.is_working_day(d)


@settings(max_examples=60, deadline=None)
@given(
    d=dates,
    extra=st.sets(dates, max_size=5),
    removed=st.sets(dates, max_size=5),
    n=st.integers(0, 60),
)
def test_extra_and_removed_respected(d: date, extra: set[date], removed: set[date], n: int) -> None:
    removed -= extra
    cal = WorkingCalendar(extra_holidays=extra, removed_holidays=removed)
    for x in extra:
        assert not cal.is_working_day(x)
    for x in removed:
        assert cal.is_working_day(x) == (x.weekday() < 5)
    result = cal.add_working_days(d, n)
    assert result not in extra
    if cal.is_working_day(d) or n >= 1:
        assert cal.working_days_between(d, result) == n


def test_holiday_names_are_indonesian_whatever_the_server_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    names = WorkingCalendar().holidays_in_year(2027)
    assert names[date(2027, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert names[date(2027, 1, 1)] == "Tahun Baru Masehi"
