"""Complaints: a public form tied to the tracking number and PIN (rate limited), told to every
manager's inbox in the same transaction, answered by a manager, the answer shown to the applicant."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.complaints.models import Complaint
from app.container import Container
from app.files.models import ApplicationFile
from app.notify.models import Notice
from tests.walking import open_new
from tests.web import post_form, signed_in

PIN = "482913"


def file_with_pin(c: Container) -> str:
    number = open_new(c, "trade_licence")
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        file.tracking_pin_hash = generate_password_hash(PIN)
    return number


def complain(client, number: str, pin: str = PIN, **extra: str):  # type: ignore[no-untyped-def]
    data = {"file_number": number, "pin": pin, "category": "waktu",
            "message": "Sudah lewat 3 hari kerja tetapi SIUP belum selesai.", **extra}
    return post_form(client, "/complaints/new", data)


def test_a_complaint_reaches_every_manager_and_its_answer_the_applicant(web_app: Flask, deployed: Container) -> None:
    number = file_with_pin(deployed)
    public = web_app.test_client()
    assert public.get("/complaints/new").status_code == 200
    wrong = complain(public, number, pin="000000")
    assert "Nomor berkas atau PIN salah." in wrong.get_data(as_text=True)
    sent = complain(public, number, contact="081234567890")
    assert sent.status_code == 201
    with deployed.db.unit_of_work() as session:
        [complaint] = session.scalars(select(Complaint)).all()
        assert (complaint.status, complaint.category, complaint.contact) == ("open", "waktu", "081234567890")
        assert complaint.reference in sent.get_data(as_text=True)
        notices = session.scalars(select(Notice).where(Notice.level == "complaint")).all()
        assert [n.recipient.username for n in notices] == ["manajer"]
        assert notices[0].detail["reference"] == complaint.reference and notices[0].task_key == -complaint.id
        complaint_id, reference = complaint.id, complaint.reference

    # The manager's inbox names the complaint and its category in words, with no empty separators.
    inbox = signed_in(web_app, "manajer").get("/inbox").get_data(as_text=True)
    assert "Waktu penyelesaian" in inbox and ">waktu<" not in inbox and "· waktu" not in inbox
    assert f"Pengaduan {reference}" in inbox
    header = inbox[inbox.index('<article class="notice'):inbox.index("</header>")]
    assert "· ·" not in " ".join(header.split())

    # officers cannot answer; managers can
    assert signed_in(web_app, "loket").get("/complaints").status_code == 403
    assert public.get("/complaints").status_code == 302
    manager = signed_in(web_app, "manajer")
    listing = manager.get("/complaints").get_data(as_text=True)
    assert "Sudah lewat 3 hari kerja" in listing and number in listing
    too_short = post_form(manager, f"/complaints/{complaint_id}/answer", {"answer": "  maaf   "}, token_from="/complaints")
    assert too_short.status_code == 302
    assert "Jawaban 10 sampai 4.000 karakter." in manager.get("/complaints").get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        assert session.get_one(Complaint, complaint_id).status == "open"
    answer = "Mohon maaf; SIUP Anda sudah ditandatangani dan dapat diambil besok di loket."
    answered = post_form(manager, f"/complaints/{complaint_id}/answer", {"answer": answer}, token_from="/complaints")
    assert answered.status_code == 302
    with deployed.db.unit_of_work() as session:
        complaint = session.get_one(Complaint, complaint_id)
        assert (complaint.status, complaint.answered_by) == ("answered", "manajer")
        assert all(n.acknowledged_at is not None for n in session.scalars(select(Notice).where(Notice.level == "complaint")))

    status = post_form(public, "/complaints/status", {"file_number": number.lower(), "pin": PIN})
    html = status.get_data(as_text=True)
    assert status.status_code == 200 and answer in html and 'data-testid="complaint-answer"' in html
    english = post_form(public, "/complaints/status?lang=en", {"file_number": number, "pin": PIN}).get_data(as_text=True)
    assert "Answer" in english


def test_invalid_complaints_change_nothing(web_app: Flask, deployed: Container) -> None:
    number = file_with_pin(deployed)
    client = web_app.test_client()
    short = complain(client, number, message="cepat")
    assert short.status_code == 400 and "10 sampai 4.000 karakter" in short.get_data(as_text=True)
    bad_contact = complain(client, number, contact="bukan kontak")
    assert bad_contact.status_code == 400
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(Complaint)).all() == []


def test_guessing_pins_is_rate_limited(web_app: Flask, deployed: Container) -> None:
    number = file_with_pin(deployed)
    client = web_app.test_client()
    for _ in range(10):
        assert complain(client, number, pin="111111").status_code == 200
    refused = complain(client, number)  # even the right PIN, once the limit is reached
    assert refused.status_code == 429
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(Complaint)).all() == []


def test_a_few_complaints_a_day_per_file(web_app: Flask, deployed: Container) -> None:
    number = file_with_pin(deployed)
    client = web_app.test_client()
    for _ in range(5):
        assert complain(client, number).status_code == 201
    assert complain(client, number).status_code == 429
