"""The building permit walked from registration to handover through the services,
on SQLite and on PostgreSQL, including the incomplete-documents loop and the
abandonment timer."""
from __future__ import annotations

from typing import Any

import pytest

from app.auth.services import create_user
from app.clock import FixedClock
from app.container import Container
from app.engine.timers import fire_due_timers
from tests import samples, walking
from tests.walking import LANE_OFFICERS, open_pbg, open_task, serial, state


@pytest.fixture
def office(deployed: Container) -> Container:
    with deployed.db.unit_of_work() as session:
        for lane, username in LANE_OFFICERS.items():
            create_user(session, username, username.title(), "rahasia-123", lanes=[lane])
    return deployed


def do(c: Container, number: str, expected_title: str, data: dict[str, Any]) -> None:
    """Complete the file's single open step, titled ``expected_title``, as an officer of its lane."""
    task = open_task(c, number)
    assert task.title == expected_title
    walking.do(c, number, task.task_name, data)


def test_complete_file_with_one_resubmission_is_granted(office: Container, clock: FixedClock) -> None:
    number = open_pbg(office)
    assert number.startswith("PBG-2026-")
    do(office, number, "Registrasi permohonan", samples.REGISTRATION)
    do(office, number, "Pemeriksaan kelengkapan berkas", samples.CHECK_INCOMPLETE)
    do(office, number, "Terima kelengkapan berkas", samples.RESUBMISSION)
    do(office, number, "Pemeriksaan kelengkapan berkas", samples.CHECK_COMPLETE)
    do(office, number, "Pemeriksaan lapangan (BAP)", samples.SURVEY)

    data = state(office, number).data
    assert data["fee"] == 600_000  # 120 m2 x Rp10.000 x 0.5 (hunian) x 1.0 x 1.0
    assert data["skrd_number"] == f"SKRD/{number}"

    do(office, number, "Konfirmasi pembayaran retribusi", samples.PAYMENT)
    do(office, number, "Penyusunan draf izin", samples.DRAFT)
    do(office, number, "Penandatanganan izin", samples.SIGN_APPROVE)
    assert state(office, number).data["permit_number"] == f"640/PBG/{serial(number)}"
    do(office, number, "Penyerahan izin", samples.HANDOVER)

    final = state(office, number)
    assert final.status == "completed"
    assert final.data["outcome"] == "granted"
    assert final.open_tasks == []
    completed = [(e.task_name, e.actor) for e in final.history if e.kind == "task_completed"]
    assert completed == [
        ("register_application", "loket"), ("check_documents", "verifikator"),
        ("receive_resubmission", "loket"), ("check_documents", "verifikator"),
        ("field_survey", "teknis"), ("confirm_payment", "kasir"), ("draft_permit", "verifikator"),
        ("sign_permit", "kepala"), ("hand_over_permit", "loket"),
    ]


def test_refused_file_ends_with_the_refusal_handed_over(office: Container) -> None:
    number = open_pbg(office)
    do(office, number, "Registrasi permohonan", samples.REGISTRATION)
    do(office, number, "Pemeriksaan kelengkapan berkas", samples.CHECK_COMPLETE)
    do(office, number, "Pemeriksaan lapangan (BAP)", samples.SURVEY)
    do(office, number, "Konfirmasi pembayaran retribusi", samples.PAYMENT)
    do(office, number, "Penyusunan draf izin", samples.DRAFT)
    do(office, number, "Penandatanganan izin", samples.SIGN_REFUSE)
    do(office, number, "Penyerahan surat penolakan", samples.REFUSAL_HANDOVER)
    final = state(office, number)
    assert (final.status, final.data["outcome"]) == ("completed", "refused")


def test_abandoned_incomplete_file_is_closed_by_its_timer(office: Container, clock: FixedClock) -> None:
    number = open_pbg(office)
    do(office, number, "Registrasi permohonan", samples.REGISTRATION)
    do(office, number, "Pemeriksaan kelengkapan berkas", samples.CHECK_INCOMPLETE)
    assert [t.title for t in state(office, number).open_tasks] == ["Terima kelengkapan berkas"]

    clock.advance(days=office.settings.resubmission_days - 1)
    assert fire_due_timers(office) == 0
    assert state(office, number).status == "running"

    clock.advance(days=1, seconds=1)
    assert fire_due_timers(office) == 1
    final = state(office, number)
    assert (final.status, final.data["outcome"]) == ("completed", "closed_abandoned")
    assert final.open_tasks == []
    assert [e.kind for e in final.history][-2:] == ["timer_fired", "completed"]
