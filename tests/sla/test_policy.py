"""SLA states by working days left, the instants they change, and the escalation chain."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla import policy
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, working_days_left

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkingCalendar()
HOURS = OfficeHours()
FILE = policy.Thresholds(3, 1)
DUE = datetime(2026, 1, 20, 16, 0, tzinfo=WIB)  # Tuesday; Friday 16 January is a holiday


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


@pytest.mark.parametrize(("now", "state", "upcoming"), [
    (at(2026, 1, 14, 16, 0), "on_track", at(2026, 1, 15, 8, 0)),
    (at(2026, 1, 15, 7, 59), "on_track", at(2026, 1, 15, 8, 0)),
    (at(2026, 1, 15, 8, 0), "warning", at(2026, 1, 20, 8, 0)),
    (at(2026, 1, 19, 16, 0), "warning", at(2026, 1, 20, 8, 0)),
    (at(2026, 1, 20, 8, 0), "critical", DUE),
    (at(2026, 1, 20, 15, 59), "critical", DUE),
    (DUE, "breached", None),
    (at(2026, 2, 20, 9, 0), "breached", None),
])
def test_state_and_next_change(now: datetime, state: str, upcoming: datetime | None) -> None:
    assert policy.evaluate(CAL, HOURS, now, DUE, FILE) == (state, upcoming)


def test_next_check_is_now_when_the_stored_state_is_stale() -> None:
    now = at(2026, 1, 19, 9, 0)
    assert policy.next_check(CAL, HOURS, now, DUE, FILE, "on_track") == now
    assert policy.next_check(CAL, HOURS, now, DUE, FILE, "warning") == at(2026, 1, 20, 8, 0)
    assert policy.next_check(CAL, HOURS, now, DUE, FILE, None) == now


def test_only_worse_states_escalate() -> None:
    assert policy.is_escalation("on_track", "warning")
    assert policy.is_escalation(None, "breached")
    assert not policy.is_escalation("critical", "warning")
    assert not policy.is_escalation("warning", "on_track")


@settings(max_examples=150, deadline=None)
@given(now=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 2, 28), timezones=st.just(UTC)),
       warning=st.sampled_from([0.25, 0.5, 1.0, 2.5, 3.0, 5.0]), critical=st.sampled_from([0.0, 0.25, 0.5, 1.0]))
def test_state_agrees_with_working_days_left(now: datetime, warning: float, critical: float) -> None:
    thresholds = policy.Thresholds(max(warning, critical), critical)
    state, upcoming = policy.evaluate(CAL, HOURS, now, DUE, thresholds)
    left = working_days_left(CAL, HOURS, now, DUE)
    assert (state == "breached") == (now >= DUE)
    if state == "breached":
        assert upcoming is None
    elif state == "critical":
        assert 0 <= left <= critical
    elif state == "warning":
        assert critical <= left <= thresholds.warning_days
    else:
        assert left >= thresholds.warning_days
    if upcoming is not None:
        assert upcoming > now
        # Nothing changes before the announced instant.
        assert policy.evaluate(CAL, HOURS, upcoming - timedelta(microseconds=1), DUE, thresholds)[0] == state
        assert policy.evaluate(CAL, HOURS, upcoming, DUE, thresholds)[0] != state


def test_escalation_chain_parses_and_refuses_nonsense() -> None:
    assert policy.parse_escalation("warning=officers;critical=officers,managers;breached=head,admins") == {
        "warning": ("officers",), "critical": ("officers", "managers"), "breached": ("head", "admins")}
    assert policy.parse_escalation("breached=head") == {"breached": ("head",)}
    with pytest.raises(ValueError, match="unknown group"):
        policy.parse_escalation("warning=everyone")
    with pytest.raises(ValueError, match="LEVEL=GROUP"):
        policy.parse_escalation("late=head")


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="warning >= critical"):
        policy.Thresholds(1, 3)


def test_limits_per_process_are_the_catalogues_published_durations() -> None:
    from app.config import Settings
    from app.files.services import promised_working_days

    settings = Settings(sla_default_working_days=7)
    assert promised_working_days("building_permit", settings) == 10
    assert promised_working_days("trade_licence", settings) == 3  # SIUP: 3 working days
    assert promised_working_days("not_in_the_catalogue", settings) == 7
