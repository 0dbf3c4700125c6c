"""Timer wake-ups: one that arrives early is scheduled again for the due time, a stale
one is dropped; and a timeDate timer at the close of office hours n working days on."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.clock import FixedClock
from app.container import Container
from app.engine.runtime import FIRE_TIMERS_JOB
from app.engine.sandbox import make_script_engine
from app.engine.timers import fire_instance_timers
from app.publisher import RecordingPublisher
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours
from app.sla.script_helpers import script_helpers
from tests.engine.test_runtime import deploy_fixture, history, instance, start

WIB = ZoneInfo("Asia/Jakarta")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


@pytest.fixture
def waiting(container: Container, clock: FixedClock, publisher: RecordingPublisher) -> tuple[int, datetime]:
    clock.set(wib(2026, 1, 15, 10, 0))  # Thursday; Friday 16 January is Isra Mi'raj
    deploy_fixture(container, "working_day_timer.bpmn")
    instance_id = start(container, "working_day_timer", {"wait_days": 1})
    due = instance(container, instance_id).next_timer_at
    assert due is not None
    publisher.jobs.clear()
    return instance_id, due


def test_timedate_timer_waits_until_the_close_of_the_nth_working_day(
        container: Container, clock: FixedClock, waiting: tuple[int, datetime]) -> None:
    instance_id, due = waiting
    assert due == wib(2026, 1, 19, 16, 0)  # Monday, the next working day, at the close
    clock.set(due + timedelta(milliseconds=1))
    assert fire_instance_timers(container, instance_id, scheduled_for=due)
    with container.db.unit_of_work() as session:
        assert container.runtime.data(container.runtime.get(session, instance_id))["outcome"] == "woken"
    assert history(container, instance_id)[-2:] == ["timer_fired", "completed"]


def test_an_early_wake_up_is_scheduled_again_for_the_due_time(
        container: Container, clock: FixedClock, publisher: RecordingPublisher, waiting: tuple[int, datetime]) -> None:
    instance_id, due = waiting
    clock.set(due - timedelta(milliseconds=3))
    assert not fire_instance_timers(container, instance_id, scheduled_for=due)
    assert [(j.name, j.args, j.eta) for j in publisher.jobs] == [(FIRE_TIMERS_JOB, (instance_id,), due)]
    clock.set(due)  # the library fires only once the due time has strictly passed
    assert not fire_instance_timers(container, instance_id, scheduled_for=due)
    assert len(publisher.jobs) == 2
    assert instance(container, instance_id).status == "running"
    clock.set(due + timedelta(microseconds=1))
    assert fire_instance_timers(container, instance_id, scheduled_for=due)
    assert len(publisher.jobs) == 2


def test_a_stale_or_unscheduled_wake_up_is_dropped(
        container: Container, clock: FixedClock, publisher: RecordingPublisher, waiting: tuple[int, datetime]) -> None:
    instance_id, due = waiting
    assert not fire_instance_timers(container, instance_id, scheduled_for=due - timedelta(days=1))
    assert not fire_instance_timers(container, instance_id)  # the sweep's call: nothing to schedule
    assert publisher.jobs == []


def test_working_days_from_now_helper() -> None:
    clock = FixedClock(wib(2025, 12, 24, 9, 0))
    engine = make_script_engine(script_helpers(lambda: WorkingCalendar(), clock, OfficeHours.parse("07:30-15:30")))
    helper = engine.environment.helpers["working_days_from_now"]
    # 25 Christmas, 26 cuti bersama, weekend: the first working day after is Monday 29 December.
    assert helper(1) == "2025-12-29T15:30:00+07:00"
    assert helper(0) == "2025-12-24T15:30:00+07:00"
    with pytest.raises(ValueError, match="n must be >= 0"):
        helper(-1)
    with pytest.raises(TypeError):
        helper("3")
