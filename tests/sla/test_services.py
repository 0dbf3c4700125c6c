"""Calendar administration (rebuilding the cached office calendar) and manager responsibilities."""
from __future__ import annotations

from datetime import date

import pytest

from app.auth.services import create_user
from app.container import Container
from app.db import Database
from app.engine.errors import NotFound
from app.sla.services import (
    CalendarError,
    OfficeCalendar,
    ResponsibilityError,
    add_holiday,
    assign_manager,
    clear_calendar_day,
    list_calendar_days,
    list_responsibilities,
    remove_holiday,
    unassign_manager,
)

NYEPI_CUTI = date(2026, 3, 18)  # cuti bersama (Wednesday)
FLOOD = date(2026, 2, 10)  # an ordinary Tuesday


def test_added_and_removed_days_change_the_office_calendar(container: Container) -> None:
    c = container
    assert c.calendar.is_working_day(FLOOD) and not c.calendar.is_working_day(NYEPI_CUTI)
    with c.db.unit_of_work() as session:
        add_holiday(session, FLOOD, "Keputusan Bupati No. 12/2026: banjir", "admin", c.clock)
        remove_holiday(session, NYEPI_CUTI, "Pelayanan tetap buka", "admin", c.clock)
        # Inside the transaction the caller already sees its own change.
        assert not c.office_calendar.current(session).is_working_day(FLOOD)
    c.office_calendar.invalidate()
    assert not c.calendar.is_working_day(FLOOD)
    assert c.calendar.is_working_day(NYEPI_CUTI)
    with c.db.unit_of_work() as session:
        days = list_calendar_days(session, 2026)
        assert [(d.day, d.kind, d.created_by) for d in days] == [(FLOOD, "add", "admin"), (NYEPI_CUTI, "remove", "admin")]
        add_holiday(session, NYEPI_CUTI, "Kembali libur", "admin", c.clock)  # replaces the earlier change
        clear_calendar_day(session, FLOOD, c.clock)
        assert [(d.day, d.kind) for d in list_calendar_days(session)] == [(NYEPI_CUTI, "add")]
        with pytest.raises(NotFound):
            clear_calendar_day(session, FLOOD, c.clock)
    c.office_calendar.invalidate()
    assert c.calendar.is_working_day(FLOOD) and not c.calendar.is_working_day(NYEPI_CUTI)


def test_other_processes_see_a_change_after_the_refresh_interval(container: Container) -> None:
    ticks = [0.0]
    other_process_db = Database(container.settings.database_url)  # its own engine, as another process has
    other = OfficeCalendar(container.settings, other_process_db, monotonic=lambda: ticks[0])
    assert other.current().is_working_day(FLOOD)
    with container.db.unit_of_work() as session:
        add_holiday(session, FLOOD, "Banjir", "admin", container.clock)
    assert other.current().is_working_day(FLOOD)  # still cached
    ticks[0] += container.settings.calendar_refresh_seconds
    assert not other.current().is_working_day(FLOOD)
    before = other.current()
    ticks[0] += container.settings.calendar_refresh_seconds
    assert other.current() is before  # unchanged token: not rebuilt
    other_process_db.dispose()


@pytest.mark.commits
def test_this_process_sees_a_committed_change_at_once(container: Container) -> None:
    assert container.office_calendar.current().is_working_day(FLOOD)
    with container.db.unit_of_work() as session:
        add_holiday(session, FLOOD, "Banjir", "admin", container.clock)
    assert not container.office_calendar.current().is_working_day(FLOOD)


def test_a_rolled_back_change_is_never_mistaken_for_the_current_calendar(container: Container) -> None:
    c = container
    with pytest.raises(RuntimeError), c.db.unit_of_work() as session:
        add_holiday(session, FLOOD, "Salah ketik", "admin", c.clock)
        assert not c.office_calendar.current(session).is_working_day(FLOOD)
        raise RuntimeError("rolled back")
    with c.db.unit_of_work() as session:
        assert c.office_calendar.current(session).is_working_day(FLOOD)


@pytest.mark.parametrize(("day", "reason", "message"), [
    (date(2026, 2, 14), "Sabtu", "weekends are never working days"),
    (FLOOD, "  ", "give a reason"),
    (FLOOD, "x" * 301, "longer than 300"),
])
def test_bad_calendar_changes_are_refused_and_change_nothing(container: Container, day: date, reason: str,
                                                             message: str) -> None:
    with container.db.unit_of_work() as session:
        with pytest.raises(CalendarError, match=message):
            add_holiday(session, day, reason, "admin", container.clock)
        assert list_calendar_days(session) == []


def test_manager_responsibilities(container: Container) -> None:
    c = container
    with c.db.unit_of_work() as session:
        manager = create_user(session, "manajer", "Manajer", "rahasia-12345", role="manager")
        officer = create_user(session, "budi", "Budi", "rahasia-12345", lanes=["verifier"])
        first = assign_manager(session, manager, "building_permit", None, "admin", c.clock)
        assert assign_manager(session, manager, "building_permit", None, "admin", c.clock) is first  # idempotent
        assign_manager(session, manager, None, "cashier", "admin", c.clock)
        assert [(r.user, r.process_id, r.lane) for r in list_responsibilities(session)] == [
            ("manajer", None, "cashier"), ("manajer", "building_permit", None)]
        with pytest.raises(ResponsibilityError, match="only managers and admins"):
            assign_manager(session, officer, None, None, "admin", c.clock)
        with pytest.raises(ResponsibilityError, match="unknown lane"):
            assign_manager(session, manager, None, "kitchen", "admin", c.clock)
        unassign_manager(session, manager, None, "cashier")
        with pytest.raises(NotFound):
            unassign_manager(session, manager, None, "cashier")
        assert [(r.process_id, r.lane) for r in list_responsibilities(session)] == [("building_permit", None)]
