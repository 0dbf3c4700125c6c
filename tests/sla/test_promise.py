"""One promised date, kept: the receipt, /track, the file page and the worklist show the
deadline the file's SLA clock holds, counted from the day the documents are declared
complete, and moved by the time the file waits on the applicant (issue 9 §5, §6)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app.clock import FixedClock
from app.container import Container
from tests import samples
from tests.files.intake_helpers import register
from tests.public.test_track import track
from tests.walking import do_step
from tests.web import signed_in

WIB = ZoneInfo("Asia/Jakarta")
_PROMISED = re.compile(r'data-testid="promised-date"[^>]*>([^<]+)<')


def promised(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in _PROMISED.findall(page)]


def test_file_checked_complete_the_next_working_day_promises_the_sla_deadline_everywhere(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 13, 9, 0, tzinfo=WIB))  # Friday before cuti bersama and Idul Fitri
    loket = signed_in(web_app, "loket")
    number, pin, receipt = register(loket)
    assert promised(receipt) == ["paling lambat 6 April 2026 (10 hari kerja)"]
    # The law's rule, not "from registration".
    assert "sejak berkas dinyatakan lengkap dan benar" in receipt and "sejak tanggal pendaftaran" not in receipt

    clock.set(datetime(2026, 3, 16, 9, 0, tzinfo=WIB))  # Monday: the documents are declared complete
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)

    reprint = loket.get(f"/files/{number}/receipt").get_data(as_text=True)
    assert promised(reprint) == ["paling lambat 7 April 2026 (10 hari kerja)"]
    file_page = loket.get(f"/files/{number}").get_data(as_text=True)
    assert promised(file_page) == ["paling lambat 7 April 2026 (10 hari kerja)"]
    public = track(web_app.test_client(), number, pin).get_data(as_text=True)
    assert promised(public) == ["paling lambat 7 April 2026 (10 hari kerja)"]
    worklist = signed_in(web_app, "teknis").get("/worklist").get_data(as_text=True)
    assert promised(worklist) == ["7 April 2026"]


def test_documents_returned_then_completed_on_30_march_promise_14_april_everywhere(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 13, 9, 0, tzinfo=WIB))
    loket = signed_in(web_app, "loket")
    number, pin, _ = register(loket)
    clock.set(datetime(2026, 3, 16, 9, 0, tzinfo=WIB))
    do_step(deployed, number, "verifikator", samples.CHECK_INCOMPLETE)

    # While the documents are missing the applicant is told what to bring and by when.
    waiting = track(web_app.test_client(), number, pin).get_data(as_text=True)
    assert "Pemohon perlu bertindak" in waiting
    missing = re.search(r'data-testid="track-missing">(.*?)</ul>', waiting, re.S)
    assert missing and re.findall(r"<li>([^<]+)</li>", missing.group(1)) == [
        "Gambar teknis bangunan (arsitektur, struktur, utilitas)", "Persetujuan tetangga"]
    # The resubmission step is due in 10 working days (18-24 March are days off).
    assert "Paling lambat 7 Apr 2026 16.00 WIB" in waiting

    clock.set(datetime(2026, 3, 30, 9, 0, tzinfo=WIB))
    do_step(deployed, number, "loket", samples.RESUBMISSION)
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)

    expected = ["paling lambat 14 April 2026 (10 hari kerja)"]
    assert promised(loket.get(f"/files/{number}/receipt").get_data(as_text=True)) == expected
    public = track(web_app.test_client(), number, pin).get_data(as_text=True)
    assert promised(public) == expected and "Pemohon perlu bertindak" not in public
    file_page = loket.get(f"/files/{number}").get_data(as_text=True)
    assert promised(file_page) == expected
    days_left = re.search(r'data-testid="days-left"[^>]*>\s*([^<]+?)\s*<', file_page)
    assert days_left and days_left.group(1) == "10 hari kerja lagi"
    assert "jatuh tempo hari ini" not in file_page


def test_while_the_fee_is_unpaid_the_promise_moves_with_the_pause(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=WIB))
    loket = signed_in(web_app, "loket")
    number, pin, _ = register(loket)
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)  # due Tuesday 20 January
    do_step(deployed, number, "teknis", samples.SURVEY)  # the fee is now unpaid: the clock pauses
    clock.set(datetime(2026, 1, 7, 8, 0, tzinfo=WIB))  # two working days later
    page = loket.get(f"/files/{number}").get_data(as_text=True)
    assert promised(page) == ["paling lambat 22 Januari 2026 (10 hari kerja)"]
    assert "Jam layanan berhenti sementara" in page
    public = track(web_app.test_client(), number, pin).get_data(as_text=True)
    assert promised(public) == ["paling lambat 22 Januari 2026 (10 hari kerja)"]
    assert "Pemohon perlu bertindak" in public and "Konfirmasi pembayaran retribusi" in public


def test_a_reprinted_receipt_lists_only_what_the_applicant_handed_in(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    from sqlalchemy import select

    from app.files.models import ApplicationFile, Attachment

    loket = signed_in(web_app, "loket")
    number, _, _ = register(loket)
    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        session.add(Attachment(file_id=file.id, document_type="lainnya", filename="foto-survei.jpg",
                               content_type="image/jpeg", size=10, sha256="0" * 64, uploaded_at=clock.now(),
                               uploaded_by="teknis"))
    reprint = loket.get(f"/files/{number}/receipt").get_data(as_text=True)
    assert "ktp-siti.png" in reprint and "foto-survei.jpg" not in reprint
    assert "foto-survei.jpg" in loket.get(f"/files/{number}").get_data(as_text=True)  # the file page has it all
