"""Permit documents: a granted file's permit prints (HTML, PDF) with a QR code; its token verifies
publicly; a forged or altered token does not; a revoked or expired permit says so."""
from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from app.clock import FixedClock
from app.container import Container
from app.permits.models import Permit
from app.permits.services import verification_token, verify_token
from tests.catalogue import samples as s
from tests.walking import do, open_new, serial
from tests.web import post_form, signed_in


def granted_trade_licence(c: Container) -> Permit:
    number = open_new(c, "trade_licence")
    do(c, number, "register_application", s.SIUP_REGISTRATION)
    do(c, number, "check_documents", s.SIUP_CHECK)
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    do(c, number, "sign_permit", s.SIGN_APPROVE)
    do(c, number, "hand_over_permit", s.HANDOVER)
    with c.db.unit_of_work() as session:
        permit = session.scalars(select(Permit).where(Permit.permit_number == f"510/SIUP/{serial(number)}")).one()
        session.expunge(permit)
    return permit


def test_the_permit_is_issued_once_when_the_handover_opens_and_not_looked_for_again(web_app: Flask,
                                                                                   deployed: Container) -> None:
    c = deployed
    number = open_new(c, "trade_licence")
    do(c, number, "register_application", s.SIUP_REGISTRATION)
    do(c, number, "check_documents", s.SIUP_CHECK)
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    do(c, number, "sign_permit", s.SIGN_APPROVE)  # the handover opens: the permit is issued
    statements: list[str] = []
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(c.db.engine, "before_cursor_execute", listener)
    try:
        do(c, number, "hand_over_permit", s.HANDOVER)  # the file ends granted
    finally:
        event.remove(c.db.engine, "before_cursor_execute", listener)
    assert not [q for q in statements if re.search(r"\bpermit\b", q)], "nothing more to issue at the end"
    with c.db.unit_of_work() as session:
        assert len(session.scalars(select(Permit).where(Permit.permit_number == f"510/SIUP/{serial(number)}")).all()) == 1


@pytest.fixture
def permit(web_app: Flask, deployed: Container) -> Permit:
    return granted_trade_licence(deployed)


def token(c: Container, permit: Permit) -> str:
    return verification_token(permit, c.settings.secret_key)


def test_a_genuine_permit_verifies_without_signing_in(web_app: Flask, deployed: Container, permit: Permit) -> None:
    page = web_app.test_client().get(f"/verify/{token(deployed, permit)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="valid"' in html and "ASLI dan BERLAKU" in html
    assert permit.permit_number in html and "Siti Rahmawati" in html and "3314014507850002" not in html
    english = web_app.test_client().get(f"/verify/{token(deployed, permit)}?lang=en").get_data(as_text=True)
    assert "GENUINE and VALID" in english


def test_forged_and_altered_tokens_do_not_verify(web_app: Flask, deployed: Container, permit: Permit) -> None:
    genuine = token(deployed, permit)
    vid, mac = genuine.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    other_secret = verification_token(permit, "another-office-secret")
    forged = [f"{vid}.{flipped}", f"{vid[:-1]}{'0' if vid[-1] != '0' else '1'}.{mac}", other_secret, "0" * 24 + "." + "A" * 24,
              "not-a-token", genuine + "x"]
    client = web_app.test_client()
    for bad in forged:
        page = client.get(f"/verify/{bad}")
        assert page.status_code == 404 and 'data-status="invalid"' in page.get_data(as_text=True), bad
    # a token is bound to its number: the same id and mac on another permit number fails
    with deployed.db.unit_of_work() as session:
        row = session.get_one(Permit, permit.id)
        row.permit_number = row.permit_number + "-X"
    with deployed.db.unit_of_work() as session:
        assert verify_token(session, genuine, deployed.settings.secret_key, date(2026, 1, 12)).status == "invalid"


def test_a_revoked_permit_says_so(web_app: Flask, deployed: Container, permit: Permit) -> None:
    verifier = signed_in(web_app, "verifikator")
    denied = post_form(verifier, f"/permits/{permit.id}/revoke", {"reason": "Tempat usaha ditutup permanen."},
                       token_from=f"/permits/{permit.id}")
    assert denied.status_code == 403
    head = signed_in(web_app, "kepala")
    assert "Cabut izin" in head.get(f"/permits/{permit.id}").get_data(as_text=True)
    short = post_form(head, f"/permits/{permit.id}/revoke", {"reason": "tutup"})
    assert short.status_code == 302
    page = web_app.test_client().get(f"/verify/{token(deployed, permit)}")
    assert 'data-status="valid"' in page.get_data(as_text=True)  # a reason is required: nothing changed
    done = post_form(head, f"/permits/{permit.id}/revoke", {"reason": "Tempat usaha ditutup permanen oleh pemilik."})
    assert done.status_code == 302
    page = web_app.test_client().get(f"/verify/{token(deployed, permit)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="revoked"' in html and "TELAH DICABUT" in html


def test_an_expired_permit_says_so(deployed: Container, permit: Permit, clock: FixedClock) -> None:
    with deployed.db.unit_of_work() as session:
        session.get_one(Permit, permit.id).valid_until = date(2026, 3, 31)
    with deployed.db.unit_of_work() as session:
        assert verify_token(session, token(deployed, permit), deployed.settings.secret_key, date(2026, 3, 31)).status == "valid"
        assert verify_token(session, token(deployed, permit), deployed.settings.secret_key, date(2026, 4, 1)).status == "expired"


def test_the_permit_prints_as_html_and_pdf_with_its_qr_code(web_app: Flask, deployed: Container, permit: Permit) -> None:
    assert web_app.test_client().get(f"/permits/{permit.id}").status_code == 302  # officers only
    officer = signed_in(web_app, "loket")
    html = officer.get(f"/permits/{permit.id}").get_data(as_text=True)
    assert permit.permit_number in html and "<svg" in html
    assert f"/verify/{token(deployed, permit)}" in html
    assert "Wajib memasang papan nama perusahaan" in html
    assert "Golongan SIUP" in html and "46632, 47521" in html  # the permit type's printed facts (catalogue)
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    pdf = officer.get(f"/permits/{permit.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    if os.environ.get("PTSP_KEEP_PDF"):
        Path(os.environ["PTSP_KEEP_PDF"]).write_bytes(pdf.data)
    with deployed.db.unit_of_work() as session:
        number = session.get_one(Permit, permit.id).file.file_number
    rows = officer.get(f"/files/{number}/permits").get_data(as_text=True)
    assert rows.count('data-testid="permit-row"') == 1
