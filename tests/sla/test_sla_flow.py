"""A building-permit file under the injected clock: its legal clock starts when the
documents are complete, pauses while the fee is unpaid, and escalates on track ->
warning -> critical -> breached; each notice is created and delivered exactly once.
On SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.clock import FixedClock
from app.container import Container
from app.notify.services import reassign_task
from app.publisher import RecordingPublisher
from app.sla.sweep import sla_sweep
from tests import samples
from tests.sla.office import CapturingSender, file_row, make_office, notices, run_deliveries
from tests.walking import do, open_pbg, open_task, user

WIB = ZoneInfo("Asia/Jakarta")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


@pytest.fixture
def office(deployed: Container) -> Container:
    make_office(deployed)
    return deployed


def test_file_escalates_step_by_step_and_each_notice_goes_out_once(
        office: Container, clock: FixedClock, publisher: RecordingPublisher) -> None:
    c = office
    sender = CapturingSender()
    clock.set(wib(2026, 1, 5, 8, 0))  # Monday
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_INCOMPLETE)
    # Documents returned to the applicant: the legal clock has not started.
    assert file_row(c, number).sla_started_at is None

    clock.set(wib(2026, 1, 7, 8, 0))
    do(c, number, "receive_resubmission", samples.RESUBMISSION)
    clock.set(wib(2026, 1, 7, 9, 0))
    do(c, number, "check_documents", samples.CHECK_COMPLETE)
    started = file_row(c, number)
    assert started.sla_started_at == wib(2026, 1, 7, 9, 0)
    assert (started.sla_limit_days, started.sla_state) == (10, "on_track")
    # 10 working days after Wednesday 7 January (16 January is Isra Mi'raj), at the close of office hours.
    assert started.sla_due_at == wib(2026, 1, 22, 16, 0)
    assert started.sla_next_check_at == wib(2026, 1, 20, 8, 0)  # enters warning with 3 working days left
    survey = open_task(c, number)
    assert survey.due_at == wib(2026, 1, 12, 16, 0) and survey.sla_state == "on_track"

    clock.set(wib(2026, 1, 8, 9, 0))
    do(c, number, "field_survey", samples.SURVEY)
    # The fee is unpaid: the file waits on the applicant and its clock pauses.
    paused = file_row(c, number)
    assert (paused.sla_paused_at, paused.sla_next_check_at) == (wib(2026, 1, 8, 9, 0), None)
    payment = open_task(c, number)
    assert payment.task_name == "confirm_payment" and payment.sla_state is None  # not escalated

    clock.set(wib(2026, 1, 12, 10, 0))
    assert sla_sweep(c).files_changed == 0
    do(c, number, "confirm_payment", samples.PAYMENT)
    resumed = file_row(c, number)
    # Paused Thursday 09:00 to Monday 10:00: 7 + 8 + 2 = 17 office hours, added in working time.
    assert resumed.sla_paused_at is None
    assert resumed.sla_paused_seconds == 17 * 3600
    assert resumed.sla_due_at == wib(2026, 1, 27, 9, 0)

    clock.set(wib(2026, 1, 12, 11, 0))
    do(c, number, "draft_permit", samples.DRAFT)
    sign = open_task(c, number)
    assert sign.task_name == "sign_permit" and sign.due_at == wib(2026, 1, 13, 16, 0)
    with c.db.unit_of_work() as session:  # the manager gives the signature to the deputy head
        reassign_task(session, sign.id, user(session, "wakil"), user(session, "manajer"), c.clock)

    expected: list[tuple[str, str, str]] = []

    def sweep_at(when: datetime, new: list[tuple[str, str, str]]) -> None:
        clock.set(when)
        sla_sweep(c)
        sla_sweep(c)  # a second sweep at the same moment creates nothing
        expected.extend(new)
        assert notices(c) == expected
        outcomes = run_deliveries(c, publisher, sender)
        assert [o.status for o in outcomes] == ["sent"] * len(new)

    # The step's own due time: 1 working day, warning with half a day left, critical with a quarter.
    sweep_at(wib(2026, 1, 13, 11, 59), [])
    sweep_at(wib(2026, 1, 13, 12, 0), [("task", "warning", "wakil")])  # the claimant, not the whole lane
    sweep_at(wib(2026, 1, 13, 14, 0), [("task", "critical", "manajer")])
    sweep_at(wib(2026, 1, 13, 16, 0), [("task", "breached", "kepala"), ("task", "breached", "wakil")])
    # The file's legal clock: warning 3 working days before Tuesday 27 January 09:00.
    sweep_at(wib(2026, 1, 21, 16, 0), [])
    assert file_row(c, number).sla_state == "on_track"
    sweep_at(wib(2026, 1, 22, 9, 0), [("file", "warning", "wakil")])
    assert file_row(c, number).sla_state == "warning"
    sweep_at(wib(2026, 1, 26, 9, 0), [("file", "critical", "manajer")])
    assert not file_row(c, number).past_legal_limit
    sweep_at(wib(2026, 1, 27, 9, 0), [("file", "breached", "kepala"), ("file", "breached", "wakil")])
    late = file_row(c, number)
    assert (late.sla_state, late.past_legal_limit, late.past_legal_limit_at) == ("breached", True, wib(2026, 1, 27, 9))
    assert late.sla_next_check_at is None
    sweep_at(wib(2026, 2, 2, 9, 0), [])

    # Every notice was mailed once, with its own Message-ID, bilingual.
    assert len(sender.messages) == len(expected) == 8
    assert len({m["Message-ID"] for m in sender.messages}) == 8
    first = sender.messages[0]
    assert first["To"] == "Wakil <wakil@dpmptsp.example>"
    body = first.get_content()
    assert body.index("Nomor berkas") < body.index("File number")
    assert number in body and "Penandatanganan izin" in body and "Persetujuan Bangunan Gedung" in body
    # Running the same jobs again (a redelivered message) sends nothing.
    with c.db.unit_of_work() as session:
        from sqlalchemy import select

        from app.notify.delivery import deliver
        from app.notify.models import Delivery

        ids = list(session.scalars(select(Delivery.id)))
    assert {deliver(c, i, sender=sender).status for i in ids} == {"skipped"}
    assert len(sender.messages) == 8


def test_clock_stops_when_the_file_is_done_and_remembers_a_late_finish(
        office: Container, clock: FixedClock) -> None:
    c = office
    clock.set(wib(2026, 1, 5, 8, 0))
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_COMPLETE)
    assert file_row(c, number).sla_due_at == wib(2026, 1, 20, 16, 0)
    do(c, number, "field_survey", samples.SURVEY)
    do(c, number, "confirm_payment", samples.PAYMENT)
    do(c, number, "draft_permit", samples.DRAFT)
    do(c, number, "sign_permit", samples.SIGN_APPROVE)
    clock.set(wib(2026, 1, 21, 9, 0))  # handed over a day late, with no sweep in between
    do(c, number, "hand_over_permit", samples.HANDOVER)
    done = file_row(c, number)
    assert done.sla_stopped_at == wib(2026, 1, 21, 9, 0)
    assert (done.sla_state, done.past_legal_limit, done.sla_next_check_at) == ("breached", True, None)
    clock.advance(days=30)
    assert sla_sweep(c).files_changed == 0
    assert [n for n in notices(c) if n[0] == "file"] == []  # a finished file is not escalated


def test_a_file_abandoned_before_its_documents_were_complete_never_starts_its_clock(
        office: Container, clock: FixedClock) -> None:
    from app.engine.timers import fire_due_timers

    c = office
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_INCOMPLETE)
    clock.advance(days=c.settings.resubmission_days, seconds=1)
    assert fire_due_timers(c) == 1
    closed = file_row(c, number)
    assert closed.sla_started_at is None and closed.sla_due_at is None and closed.sla_stopped_at is not None
    clock.advance(days=30)
    sla_sweep(c)
    assert notices(c) == []


def test_a_calendar_change_moves_deadlines_computed_after_it(office: Container, clock: FixedClock) -> None:
    from app.sla.services import add_holiday

    c = office
    clock.set(wib(2026, 1, 5, 8, 0))
    with c.db.unit_of_work() as session:
        add_holiday(session, wib(2026, 1, 8).date(), "Keputusan Bupati: banjir", "admin", c.clock)
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_COMPLETE)
    assert file_row(c, number).sla_due_at == wib(2026, 1, 21, 16, 0)  # one day later than without it
    assert open_task(c, number).due_at == wib(2026, 1, 9, 16, 0)  # 3 working days, skipping the 8th
