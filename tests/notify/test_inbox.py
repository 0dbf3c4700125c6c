"""The in-app inbox: reading and acknowledging notices, and reassigning an escalated step."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.engine.errors import NotFound
from app.engine.models import InstanceEvent
from app.notify.services import (
    InvalidReassignment,
    NotAllowed,
    acknowledge,
    inbox_for,
    mark_read,
    reassign_task,
    unread_count,
)
from app.sla.sweep import sla_sweep
from tests import samples
from tests.sla.office import make_office
from tests.walking import do, open_pbg, open_task, user

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def office(deployed: Container) -> Container:
    make_office(deployed)
    return deployed


def test_inbox_lists_acknowledges_and_guards_notices(office: Container, clock: FixedClock) -> None:
    c = office
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=WIB))
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_COMPLETE)
    clock.set(datetime(2026, 1, 8, 12, 30, tzinfo=WIB))  # the survey is due at 16:00 today: warning
    sla_sweep(c)
    with c.db.unit_of_work() as session:
        teknis, kasir = user(session, "teknis"), user(session, "kasir")
        [notice] = inbox_for(session, teknis)
        assert (notice.level, notice.detail["file_number"], notice.detail["step"]) == (
            "warning", number, "Pemeriksaan lapangan (BAP)")
        assert inbox_for(session, kasir) == [] and unread_count(session, teknis) == 1
        with pytest.raises(NotAllowed):
            acknowledge(session, notice.id, kasir, c.clock)
        with pytest.raises(NotFound):
            acknowledge(session, 999_999, teknis, c.clock)
        mark_read(session, notice.id, teknis, c.clock)
        assert unread_count(session, teknis) == 0 and inbox_for(session, teknis) == [notice]
        acknowledge(session, notice.id, teknis, c.clock)
        acknowledge(session, notice.id, teknis, c.clock)  # idempotent
        assert (notice.acknowledged_by, notice.acknowledged_at) == ("teknis", c.clock.now())
        assert inbox_for(session, teknis) == []
        assert inbox_for(session, teknis, include_acknowledged=True) == [notice]


def test_reassign_only_by_a_manager_to_an_officer_of_the_lane(office: Container) -> None:
    c = office
    number = open_pbg(c)
    task = open_task(c, number)
    assert task.lane == "front_office"
    with c.db.unit_of_work() as session:
        manager, loket, kasir = user(session, "manajer"), user(session, "loket"), user(session, "kasir")
        with pytest.raises(NotAllowed):
            reassign_task(session, task.id, loket, kasir, c.clock)
        with pytest.raises(InvalidReassignment, match="lane 'front_office'"):
            reassign_task(session, task.id, kasir, manager, c.clock)
        moved = reassign_task(session, task.id, loket, manager, c.clock)
        assert moved.claimed_by == "loket"
        [event] = session.scalars(select(InstanceEvent).where(InstanceEvent.kind == "reassigned")).all()
        assert (event.actor, event.task_name, event.detail["to"]) == ("manajer", "register_application", "loket")
    do(c, number, "register_application", samples.REGISTRATION)
    with c.db.unit_of_work() as session, pytest.raises(InvalidReassignment, match="only open steps"):
        reassign_task(session, task.id, user(session, "loket"), user(session, "manajer"), c.clock)
