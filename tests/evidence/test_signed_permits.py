"""Permits signed as PDF (PAdES): the downloaded permit carries a valid office signature (the QR
code stays); a changed byte makes it invalid; each permit of a bundle is signed; the public
verification page offers the signed PDF and its SHA-256, and says revoked when the permit is."""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from app.evidence.keys import office_identity
from app.evidence.pdfsign import check_pdf
from app.permits.models import Permit
from app.permits.services import verification_token
from tests.catalogue import samples as s
from tests.permits.test_verification import granted_trade_licence
from tests.walking import do, open_new
from tests.web import post_form, signed_in


def signature_facts(body: bytes) -> tuple[str, str, str]:
    """The signature's /Name, /Reason and the text of its visible box."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    [sig] = PdfFileReader(io.BytesIO(body)).embedded_signatures
    raw = sig.sig_field["/AP"]["/N"].data.decode("latin-1")
    appearance = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), raw)  # PDF string escapes
    return str(sig.sig_object["/Name"]), str(sig.sig_object["/Reason"]), appearance


def office_ca(c: Container) -> bytes:
    return office_identity(c.settings).ca_pem()


@pytest.fixture
def permit(web_app: Flask, deployed: Container) -> Permit:
    return granted_trade_licence(deployed)


def test_an_issued_permit_downloads_signed_and_the_same_bytes_every_time(web_app: Flask, deployed: Container,
                                                                          permit: Permit) -> None:
    # the PDF is signed in the name of the head who signed the file (as its face says), not a configured name
    deployed.settings = replace(deployed.settings, signer_name="Nama dari konfigurasi", signer_nip="000")
    with deployed.db.unit_of_work() as session:
        head = session.scalars(select(User).where(User.username == "kepala")).one()
        head.full_name, head.nip = "Ir. Hartono, M.T.", "196501011990031001"
    officer = signed_in(web_app, "loket")
    first = officer.get(f"/permits/{permit.id}.pdf?lang=en")
    body = first.get_data()
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    result = check_pdf(body, office_ca(deployed))
    assert (result.verdict, result.exit_code) == ("valid", 0), result.summary
    assert "DEMO PTSP permit signing" in result.summary and "PAdES B-B" in result.summary
    assert first.headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    name, reason, appearance = signature_facts(body)
    assert name == "Ir. Hartono, M.T." and "NIP 196501011990031001" in reason
    assert "(Ir. Hartono, M.T.) Tj T* (NIP 196501011990031001)" in appearance
    assert "(DEMO - tidak sah secara hukum)" in appearance
    again = officer.get(f"/permits/{permit.id}.pdf").get_data()
    assert again == body  # signed once, served as kept
    stored = deployed.settings.var_dir / "permits" / f"{hashlib.sha256(body).hexdigest()}.pdf"
    assert stored.read_bytes() == body


def test_a_changed_byte_or_a_later_change_is_caught_by_sign_check(web_app: Flask, deployed: Container,
                                                                  permit: Permit, tmp_path: Path) -> None:
    body = signed_in(web_app, "loket").get(f"/permits/{permit.id}.pdf").get_data()
    runner = web_app.test_cli_runner()

    def sign_check(data: bytes) -> tuple[int, str]:
        path = tmp_path / "permit.pdf"
        path.write_bytes(data)
        result = runner.invoke(args=["sign-check", str(path)])
        return result.exit_code, result.stdout  # the verdict; pyHanko's own warnings are log lines on stderr

    code, output = sign_check(body)
    assert code == 0 and output.startswith("VALID: signed by ")
    at = body.index(permit.permit_number.encode())  # a byte of the permit number, inside the signed range
    changed = bytearray(body)
    changed[at] = ord("9") if body[at] != ord("9") else ord("8")
    code, output = sign_check(bytes(changed))
    assert code == 1 and output.startswith("INVALID: ") and "signed bytes were changed" in output

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(body))
    writer.root["/PageMode"] = generic.NameObject("/UseOutlines")
    writer.update_root()
    later = io.BytesIO()
    writer.write(later)
    code, output = sign_check(later.getvalue())
    assert code == 2 and output.startswith("MODIFIED: ") and "modified after signing" in output

    from app.permits.services import PrintedPermit, permit_pdf

    unsigned = permit_pdf(PrintedPermit("Kantor", "Izin", "1", [("Pemegang izin", "Siti")], "", [], "", "https://x", ""))
    assert sign_check(unsigned)[0] == 3
    # Another office's certificate does not pass for this office's.
    other = tmp_path / "other-ca.pem"
    from app.config import Settings

    other.write_bytes(office_identity(Settings(var_dir=tmp_path / "other")).ca_pem())
    path = tmp_path / "permit.pdf"
    path.write_bytes(body)
    untrusted = runner.invoke(args=["sign-check", str(path), "--trust", str(other)])
    assert untrusted.exit_code == 1 and "does not chain to the trusted office CA" in untrusted.output


def test_each_permit_of_a_bundle_is_signed(web_app: Flask, deployed: Container) -> None:
    c = deployed
    number = open_new(c, "bundle_new_shop")
    for step, data in [("register_application", s.BUNDLE_REGISTRATION), ("check_documents", s.BUNDLE_CHECK),
                       ("verify_business", s.SIUP_VERIFICATION), ("survey_advertisement", s.REKLAME_SURVEY),
                       ("survey_nuisance", s.HO_SURVEY), ("draft_nuisance_permit", s.HO_DRAFT),
                       ("draft_advertisement_permit", s.REKLAME_DRAFT), ("confirm_payment", s.PAYMENT),
                       ("sign_permit", s.SIGN_APPROVE), ("hand_over_permit", s.HANDOVER)]:
        do(c, number, step, data)
    with c.db.unit_of_work() as session:
        permits = list(session.scalars(select(Permit).where(Permit.permit_number.like(f"%/{number}"))))
    assert len(permits) == 3
    officer = signed_in(web_app, "loket")
    digests = set()
    for p in permits:
        body = officer.get(f"/permits/{p.id}.pdf").get_data()
        result = check_pdf(body, office_ca(c))
        assert result.verdict == "valid", (p.permit_number, result.summary)
        assert p.permit_number.encode() in body
        digests.add(hashlib.sha256(body).hexdigest())
    assert len(digests) == 3


def test_the_verification_page_offers_the_signed_pdf_and_says_revoked_after_revocation(
        web_app: Flask, deployed: Container, permit: Permit) -> None:
    token = verification_token(permit, deployed.settings.secret_key)
    public = web_app.test_client()
    download = public.get(f"/verify/{token}/permit.pdf")
    body = download.get_data()
    assert download.status_code == 200 and check_pdf(body, office_ca(deployed)).verdict == "valid"
    page = public.get(f"/verify/{token}").get_data(as_text=True)
    assert hashlib.sha256(body).hexdigest() in page and f"/verify/{token}/permit.pdf" in page
    assert 'data-testid="revoked-signature-note"' not in page
    assert public.get(f"/verify/{token[:-1]}A/permit.pdf").status_code == 404

    head = signed_in(web_app, "kepala")
    post_form(head, f"/permits/{permit.id}/revoke", {"reason": "Tempat usaha ditutup permanen."},
              token_from=f"/permits/{permit.id}")
    page = public.get(f"/verify/{token}").get_data(as_text=True)
    assert 'data-status="revoked"' in page and 'data-testid="revoked-signature-note"' in page
    assert "tetap sah secara matematis" in page and "TELAH DICABUT" in page
    assert check_pdf(body, office_ca(deployed)).verdict == "valid"  # the old PDF's signature still holds
    assert public.get(f"/verify/{token}/permit.pdf").get_data() == body  # the same document, not re-signed
