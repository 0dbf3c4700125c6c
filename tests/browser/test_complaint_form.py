"""The public complaint form in a real browser: a field the server refuses is marked beside it
and nothing is sent; corrected, the complaint is received (WTForms on the server, app/complaints/webforms.py)."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from app.complaints.models import Complaint
from tests.complaints.test_complaints import PIN, file_with_pin


def test_a_refused_field_is_marked_and_the_corrected_complaint_is_received(
        browser_context: Any, live_app: Flask, live_server: str) -> None:
    c = live_app.extensions["ptsp"]
    number = file_with_pin(c)
    page = browser_context.new_page()
    page.goto(f"{live_server}/complaints/new")
    page.fill('input[name="file_number"]', number.lower())
    page.fill('input[name="pin"]', PIN)
    page.select_option('select[name="category"]', "waktu")
    page.fill('textarea[name="message"]', "Sudah lewat 3 hari kerja tetapi SIUP belum selesai.")
    page.fill('input[name="contact"]', "bukan kontak")
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_load_state()
    assert "Isi nomor telepon Indonesia atau alamat surel yang benar" in page.content()
    assert "pengaduan belum dikirim" in page.content()
    with c.db.unit_of_work() as session:
        assert session.scalars(select(Complaint)).all() == []
    page.fill('input[name="pin"]', PIN)  # never shown back
    page.fill('input[name="contact"]', "081234567890")
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_load_state()
    assert "Pengaduan diterima" in page.content()
    with c.db.unit_of_work() as session:
        assert [x.contact for x in session.scalars(select(Complaint))] == ["081234567890"]
