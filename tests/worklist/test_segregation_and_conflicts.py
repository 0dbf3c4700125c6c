"""Segregation of duties (a step one person may not do after another) and two officers
completing the same task at once."""
from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import create_user
from app.container import Container
from app.engine.errors import ConcurrentUpdate, TaskAlreadyDone
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.worklist.completion import complete_task
from app.worklist.rules import DutiesSeparated
from tests import samples
from tests.walking import do_step, open_pbg, open_task, walk
from tests.web import post_form, signed_in
from tests.worklist.conftest import browser_form, row_html, submit_task


def state_of(c: Container, task_id: int) -> tuple:
    with c.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        events = session.scalar(select(func.count()).select_from(InstanceEvent).where(
            InstanceEvent.instance_id == instance.id))
        return task.status, task.claimed_by, instance.lock_version, instance.state, events


def to_signature(c: Container, checker: str, drafter: str = "verifikator") -> tuple[str, int]:
    number = open_pbg(c)
    walk(c, number, [("loket", samples.REGISTRATION), (checker, samples.CHECK_COMPLETE), ("teknis", samples.SURVEY),
                     ("kasir", samples.PAYMENT), (drafter, samples.DRAFT)])
    task = open_task(c, number)
    assert task.task_name == "sign_permit"
    return number, task.id


def test_the_verifier_who_checked_the_documents_cannot_sign(web_app: Flask, office: Container) -> None:
    number, sign_id = to_signature(office, checker="kepala")  # kepala is in the verifier lane too
    with office.db.unit_of_work() as session:
        create_user(session, "wakil", "Dra. Sulastri", "rahasia-petugas-1", lanes=["head"])
    before = state_of(office, sign_id)

    kepala = signed_in(web_app, "kepala")
    row = row_html(kepala, sign_id)
    assert "Tidak boleh untuk Anda" in row and "Pemeriksaan kelengkapan berkas" in row
    page = kepala.get(f"/tasks/{sign_id}").get_data(as_text=True)
    assert "Pemisahan tugas: Anda sudah mengerjakan \u201cPemeriksaan kelengkapan berkas\u201d" in page
    assert '<button type="submit" disabled>Selesaikan</button>' in page
    claimed = post_form(kepala, f"/tasks/{sign_id}/claim", {}, token_from="/worklist", follow_redirects=True)
    assert "Pemisahan tugas" in claimed.get_data(as_text=True)
    response = submit_task(kepala, sign_id, browser_form(office, "pbg_signature.json", samples.SIGN_APPROVE))
    assert response.status_code == 403
    assert "harus dikerjakan petugas lain" in response.get_data(as_text=True)
    assert state_of(office, sign_id) == before

    wakil = signed_in(web_app, "wakil")
    assert "Tidak boleh untuk Anda" not in row_html(wakil, sign_id)
    response = submit_task(wakil, sign_id, browser_form(office, "pbg_signature.json", samples.SIGN_APPROVE))
    assert response.status_code == 302
    handover = open_task(office, number)
    assert handover.title == "Penyerahan izin"
    with office.db.unit_of_work() as session:
        assert session.get(HumanTask, sign_id).completed_by == "wakil"  # type: ignore[union-attr]


def test_the_drafter_cannot_sign_either_but_an_uninvolved_head_can(office: Container) -> None:
    _, sign_id = to_signature(office, checker="verifikator", drafter="kepala")
    with office.db.unit_of_work() as session, pytest.raises(DutiesSeparated) as refused:
        kepala = session.scalars(select(User).where(User.username == "kepala")).one()
        complete_task(session, office.runtime, office.forms, sign_id, samples.SIGN_APPROVE, kepala)
    assert refused.value.done_titles == ["Penyusunan draf izin"]
    # On a file kepala neither checked nor drafted, kepala signs.
    other, _ = to_signature(office, checker="verifikator")
    do_step(office, other, "kepala", samples.SIGN_APPROVE)
    assert open_task(office, other).title == "Penyerahan izin"


def test_two_officers_submitting_the_same_task_one_wins_the_other_is_told(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id
    bambang, rina = signed_in(web_app, "verifikator"), signed_in(web_app, "verifikator2")
    # Both open the page first (each has its form and token), then both submit.
    bambang_token = bambang.get(f"/tasks/{task_id}").get_data(as_text=True)
    rina_token = rina.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Selesaikan" in bambang_token and "Selesaikan" in rina_token

    first = submit_task(bambang, task_id, browser_form(office, "pbg_document_check.json", samples.CHECK_COMPLETE))
    assert first.status_code == 302
    after_first = state_of(office, task_id)
    second = submit_task(rina, task_id, browser_form(office, "pbg_document_check.json", samples.CHECK_INCOMPLETE))
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Tugas ini sudah diselesaikan oleh Bambang Sutrisno pada 5 Jan 2026 08.00 WIB. Isian Anda tidak disimpan." in page
    assert state_of(office, task_id) == after_first
    # Bambang's answer stands: the documents were complete, so the file went to the survey.
    assert open_task(office, number).title == "Pemeriksaan lapangan (BAP)"


@pytest.mark.commits
def test_completing_at_the_same_moment_exactly_one_succeeds(office: Container, web_app: Flask) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def complete(username: str, data: dict) -> None:
        try:
            with office.db.unit_of_work() as session:
                user = session.scalars(select(User).where(User.username == username)).one()
                _ = user.lane_names
                start.wait(timeout=10)
                complete_task(session, office.runtime, office.forms, task_id, data, user)
            outcomes[username] = "completed"
        except (TaskAlreadyDone, ConcurrentUpdate) as conflict:
            outcomes[username] = type(conflict).__name__

    threads = [threading.Thread(target=complete, args=("verifikator", samples.CHECK_COMPLETE)),
               threading.Thread(target=complete, args=("verifikator2", samples.CHECK_INCOMPLETE))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) in (["ConcurrentUpdate", "completed"], ["TaskAlreadyDone", "completed"]), outcomes
    winner = next(u for u, o in outcomes.items() if o == "completed")
    with office.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None and task.completed_by == winner
        completions = session.scalar(select(func.count()).select_from(InstanceEvent).where(
            InstanceEvent.kind == "task_completed", InstanceEvent.task_name == "check_documents"))
        assert completions == 1
    expected = "Pemeriksaan lapangan (BAP)" if winner == "verifikator" else "Terima kelengkapan berkas"
    assert open_task(office, number).title == expected
