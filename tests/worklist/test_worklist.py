"""The worklist: the open tasks of my lanes, most urgent first, filters, paging,
claiming and releasing, and two officers claiming at once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.clock import FixedClock
from app.container import Container
from app.engine.models import HumanTask
from app.worklist.completion import claim_task
from app.worklist.queries import PageRequest, WorklistFilters, worklist
from app.worklist.rules import ClaimedByOther
from tests import samples
from tests.walking import do_step, open_pbg, open_task
from tests.web import post_form, signed_in
from tests.worklist.conftest import row_html, set_due, start_waiting_process, worklist_ids


def test_officers_see_only_the_open_tasks_of_their_lanes(web_app: Flask, office: Container) -> None:
    first, second = open_pbg(office, "Siti Rahmawati"), open_pbg(office, "Budi Santoso")
    do_step(office, second, "loket", samples.REGISTRATION)  # now with the verifier
    registration, check = open_task(office, first).id, open_task(office, second).id

    loket = signed_in(web_app, "loket")
    assert worklist_ids(loket) == [registration]
    page = loket.get("/worklist").get_data(as_text=True)
    assert first in page and "Siti Rahmawati" in page and "Registrasi permohonan" in page
    assert "Persetujuan Bangunan Gedung (PBG)" in page
    assert second not in page
    assert ">Daftar tugas</a>" in page  # in the navigation bar

    assert worklist_ids(signed_in(web_app, "verifikator")) == [check]
    assert worklist_ids(signed_in(web_app, "kasir")) == []
    assert "Tidak ada tugas terbuka." in signed_in(web_app, "kasir").get("/worklist").get_data(as_text=True)
    # Designers have no worklist; managers read every lane (tests/files/test_search.py).
    assert signed_in(web_app, "perancang").get("/worklist").status_code == 403


def test_most_urgent_first_then_the_oldest_without_a_due_time(web_app: Flask, office: Container,
                                                              clock: FixedClock) -> None:
    numbers = []
    for applicant in ("A", "B", "C", "D"):
        numbers.append(open_pbg(office, applicant))
        clock.advance(minutes=5)
    a, b, c, d = (open_task(office, n).id for n in numbers)
    now = clock.now()
    set_due(office, a, now + timedelta(hours=5))
    set_due(office, b, now - timedelta(hours=1))  # overdue
    set_due(office, c, None)
    set_due(office, d, None)

    loket = signed_in(web_app, "loket")
    assert worklist_ids(loket) == [b, a, c, d]
    overdue_row = row_html(loket, b)
    assert "terlambat 1 jam" in overdue_row and 'class="overdue' in overdue_row
    assert "5 jam" in row_html(loket, a)
    assert "20 menit" in row_html(loket, a)  # its age: opened 20 minutes ago

    assert worklist_ids(loket, "?overdue=1") == [b]


def test_filters_by_permit_type_step_and_claim(web_app: Flask, office: Container) -> None:
    first, second = open_pbg(office, "Siti Rahmawati"), open_pbg(office, "Budi Santoso")
    registration_1, registration_2 = open_task(office, first).id, open_task(office, second).id
    waiting = start_waiting_process(office)  # another permit type, same lane

    loket = signed_in(web_app, "loket")
    assert set(worklist_ids(loket)) == {registration_1, registration_2, waiting}
    assert set(worklist_ids(loket, "?permit_type=building_permit")) == {registration_1, registration_2}
    assert worklist_ids(loket, "?permit_type=wait_with_timer") == [waiting]
    assert worklist_ids(loket, "?step=wait_for_applicant") == [waiting]
    assert set(worklist_ids(loket, "?step=register_application")) == {registration_1, registration_2}

    post_form(loket, f"/tasks/{registration_2}/claim", {}, token_from="/worklist")
    assert worklist_ids(loket, "?claim=mine") == [registration_2]
    assert set(worklist_ids(loket, "?claim=unclaimed")) == {registration_1, waiting}
    assert worklist_ids(loket, "?claim=mine&permit_type=wait_with_timer") == []
    page = loket.get("/worklist?step=register_application").get_data(as_text=True)
    assert '<option value="register_application" selected>Registrasi permohonan</option>' in page


def test_pages_follow_each_other_without_gaps_or_repeats(web_app: Flask, office: Container, clock: FixedClock) -> None:
    ids = []
    for n in range(7):
        ids.append(open_task(office, open_pbg(office, f"Pemohon {n}")).id)
        clock.advance(minutes=1)
    # Two share a due time: the order still is total.
    set_due(office, ids[3], clock.now() + timedelta(days=1))
    set_due(office, ids[5], clock.now() + timedelta(days=1))
    with office.db.unit_of_work() as session:
        loket = session.scalars(select(User).where(User.username == "loket")).one()
        seen: list[int] = []
        after = None
        pages = 0
        while True:
            page = worklist(session, loket, WorklistFilters(), PageRequest(after=after, size=3), now=clock.now())
            seen += [r.task.id for r in page.rows]
            pages += 1
            after = page.next_after
            if after is None:
                break
        assert pages == 3
        assert page.count == 7 and not page.count_capped
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    client = signed_in(web_app, "loket")
    assert worklist_ids(client) == seen
    # A cursor typed by hand that means nothing shows the first page.
    assert worklist_ids(client, "?after=not-a-cursor") == seen


def test_claimed_task_is_held_and_refused_to_another_officer(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id

    bambang = signed_in(web_app, "verifikator")
    claimed = post_form(bambang, f"/tasks/{task_id}/claim", {}, token_from="/worklist", follow_redirects=True)
    assert "sekarang Anda pegang" in claimed.get_data(as_text=True)
    assert "Anda sendiri" in row_html(bambang, task_id)

    rina = signed_in(web_app, "verifikator2")
    assert "Bambang Sutrisno" in row_html(rina, task_id)  # she sees who holds it
    page = rina.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Dipegang oleh Bambang Sutrisno" in page
    assert '<button type="submit" disabled>Selesaikan</button>' in page
    refused = post_form(rina, f"/tasks/{task_id}/claim", {}, token_from="/worklist", follow_redirects=True)
    assert "Tugas ini sedang dipegang oleh Bambang Sutrisno" in refused.get_data(as_text=True)
    # Completing it anyway is refused too, and nothing changes.
    response = post_form(rina, f"/tasks/{task_id}", {"documents_complete": "on"})
    assert response.status_code == 409
    assert "Tugas ini sedang dipegang oleh Bambang Sutrisno" in response.get_data(as_text=True)
    released = post_form(rina, f"/tasks/{task_id}/release", {}, token_from="/worklist", follow_redirects=True)
    assert "Hanya Bambang Sutrisno, anggota jalur Kepala Dinas, atau manajer" in released.get_data(as_text=True)
    with office.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None and (task.status, task.claimed_by) == ("open", "verifikator")

    # The claimant releases it; then Rina can take it.
    released = post_form(bambang, f"/tasks/{task_id}/release", {}, token_from="/worklist", follow_redirects=True)
    assert "dilepas kembali ke jalurnya" in released.get_data(as_text=True)
    assert "Belum diambil" in row_html(rina, task_id)
    post_form(rina, f"/tasks/{task_id}/claim", {}, token_from="/worklist")
    assert "Rina Marlina" in row_html(bambang, task_id)


def test_the_head_of_office_or_a_manager_releases_anyones_claim(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id
    bambang = signed_in(web_app, "verifikator")
    post_form(bambang, f"/tasks/{task_id}/claim", {}, token_from="/worklist")

    kepala = signed_in(web_app, "kepala")  # head (and verifier)
    post_form(kepala, f"/tasks/{task_id}/release", {}, token_from="/worklist")
    assert "Belum diambil" in row_html(bambang, task_id)

    post_form(bambang, f"/tasks/{task_id}/claim", {}, token_from="/worklist")
    manajer = signed_in(web_app, "manajer")  # no lanes, but a manager
    released = post_form(manajer, f"/tasks/{task_id}/release", {}, token_from="/login")
    assert released.status_code == 302
    assert "Belum diambil" in row_html(bambang, task_id)


def test_another_lanes_task_cannot_be_claimed(web_app: Flask, office: Container) -> None:
    task_id = open_task(office, open_pbg(office)).id  # front desk
    kasir = signed_in(web_app, "kasir")
    assert post_form(kasir, f"/tasks/{task_id}/claim", {}, token_from="/worklist").status_code == 403
    assert post_form(kasir, "/tasks/999999/claim", {}, token_from="/worklist").status_code == 404
    with office.db.unit_of_work() as session:
        assert session.get(HumanTask, task_id).claimed_by is None  # type: ignore[union-attr]


@pytest.mark.commits
def test_two_officers_claiming_at_once_exactly_one_wins(office: Container, web_app: Flask) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(username: str) -> None:
        try:
            with office.db.unit_of_work() as session:
                user = session.scalars(select(User).where(User.username == username)).one()
                _ = user.lane_names
                start.wait(timeout=10)
                claim_task(session, task_id, user, office.clock.now())
            outcomes[username] = "won"
        except ClaimedByOther as refused:
            outcomes[username] = f"refused: held by {refused.holder}"

    threads = [threading.Thread(target=claim, args=(u,)) for u in ("verifikator", "verifikator2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values())[1] == "won", outcomes
    winner = next(u for u, o in outcomes.items() if o == "won")
    loser = next(u for u in outcomes if u != winner)
    assert outcomes[loser] == f"refused: held by {winner}"
    with office.db.unit_of_work() as session:
        assert session.get(HumanTask, task_id).claimed_by == winner  # type: ignore[union-attr]


def test_worklist_in_english(web_app: Flask, office: Container) -> None:
    open_pbg(office)
    page = signed_in(web_app, "loket").get("/worklist?lang=en").get_data(as_text=True)
    assert "Worklist" in page and "File number" in page and "Claim" in page and "Time left" in page
