"""Intake at the front desk, through the browser: one unit of work, a receipt with the
tracking number, the PIN (once) and the promised date, and nothing at all on a refusal."""
from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.clock import FixedClock
from app.container import Container
from app.engine.models import HumanTask, ProcessInstance
from app.files.kept_uploads import restore_kept_uploads, sweep_kept_uploads
from app.files.models import ApplicationFile, Attachment
from app.files.services import file_state, promised_date
from app.worklist.queries import open_tasks
from tests.files.intake_helpers import DOCUMENTS, PDF, browser_form, register, registration, submit
from tests.web import post_form, signed_in


def counts(c: Container) -> tuple[int, int, int, int]:
    with c.db.unit_of_work() as session:
        return tuple(session.scalar(select(func.count()).select_from(t))  # type: ignore[return-value]
                     for t in (ApplicationFile, Attachment, ProcessInstance, HumanTask))


def stored_blobs(c: Container) -> list[Path]:
    """The documents in place (not the staging area of uploads not yet committed)."""
    folder = c.settings.var_dir / "attachments"
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


def test_registration_prints_a_receipt_and_hands_the_file_to_the_verifier(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    form_page = loket.get("/intake?permit_type=building_permit").get_data(as_text=True)
    assert 'name="permit_type" value="building_permit"' in form_page and 'name="applicant/nik"' in form_page
    assert 'enctype="multipart/form-data"' in form_page
    # One row per requirement of the catalogue, by its published name.
    assert '<option value="sertifikat_tanah" selected>Sertifikat atau bukti kepemilikan tanah</option>' in form_page

    number, pin, receipt = register(loket)

    # Monday 5 January 2026 + 10 working days, skipping Isra Mi'raj on Friday 16 January.
    assert number.startswith("PBG-2026-")
    assert "20 Januari 2026" in receipt and "10 hari kerja" in receipt
    assert "5 Jan 2026 08.00 WIB" in receipt
    assert "Siti Rahmawati" in receipt and "************0002" in receipt and "3314014507850002" not in receipt
    for _, name, content in DOCUMENTS:
        assert name in receipt and hashlib.sha256(content).hexdigest()[:12] in receipt
    assert "belum diserahkan" in receipt  # site plan and neighbours' consent were not handed in
    # The fee formula as the catalogue publishes it, set after the site survey.
    assert "Rp10.000" in receipt and "indeks lokasi" in receipt
    assert "Besarnya ditetapkan setelah: Pemeriksaan lapangan (BAP)." in receipt
    assert "/track" in receipt

    reprint = loket.get(f"/files/{number}/receipt").get_data(as_text=True)
    assert pin not in reprint and "PIN telah diberikan saat pendaftaran" in reprint

    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        assert (file.applicant_nik, file.applicant["full_name"]) == ("3314014507850002", "Siti Rahmawati")
        assert file.applicant["address"]["kecamatan"] == "Sragen" and file.applicant["phone"] == "081234567890"
        assert file.promised_date == date(2026, 1, 20)
        assert file.tracking_pin_hash and pin not in file.tracking_pin_hash
        attachments = session.scalars(select(Attachment).where(Attachment.file_id == file.id)
                                      .order_by(Attachment.id)).all()
        assert [(a.document_type, a.sha256) for a in attachments] == [
            (t, hashlib.sha256(content).hexdigest()) for t, _, content in DOCUMENTS]
        assert [a.content_type for a in attachments] == ["image/png", "application/pdf", "application/pdf"]
        state = file_state(session, deployed.runtime, number)
        assert [r["reference"] for r in state.data["attachments"]] == [f"att-{a.id}" for a in attachments]
        [registered] = [e for e in state.history if e.kind == "task_completed"]
        assert (registered.task_name, registered.actor) == ("register_application", "loket")
        verifier_tasks = open_tasks(session, {"verifier"})
        assert [(t.title, t.instance_id) for t in verifier_tasks] == [("Pemeriksaan kelengkapan berkas", file.instance_id)]


def test_promised_date_counts_from_the_office_date_not_the_utc_date(deployed: Container, clock: FixedClock) -> None:
    # Sunday 4 January 18:00 UTC is already Monday 5 January 01:00 in Jakarta.
    received = datetime(2026, 1, 4, 18, 0, tzinfo=UTC)
    assert promised_date(deployed.calendar, deployed.settings, "building_permit", received) == date(2026, 1, 20)
    # Received on a Friday before cuti bersama and Idul Fitri 2026 (18-24 March are days off).
    assert promised_date(deployed.calendar, deployed.settings, "building_permit",
                         datetime(2026, 3, 13, 2, 0, tzinfo=UTC)) == date(2026, 4, 6)


def test_pin_is_shown_once_and_differs_between_files(web_app: Flask) -> None:
    loket = signed_in(web_app, "loket")
    first, pin1, _ = register(loket)
    second, pin2, _ = register(loket)
    assert first != second
    assert len(pin1) == len(pin2) == 6
    assert "data-testid=\"pin\"" not in loket.get(f"/files/{first}/receipt").get_data(as_text=True)


def test_invalid_nik_and_missing_fields_are_shown_beside_them_and_nothing_is_created(
        web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    before = counts(deployed)
    response = submit(loket, registration(applicant__sex="L", applicant__full_name=None,
                                          building_location__land_area_m2="dua ratus"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="applicant/nik-error"' in page and "NIK ini milik perempuan" in page
    assert 'id="applicant/full_name-error"' in page and "wajib diisi" in page
    assert 'id="building_location/land_area_m2-error"' in page
    assert "belum ada yang disimpan" in page and "Pilih ulang berkas lampiran" not in page
    assert 'value="Sragen Kulon"' in page  # what was typed is kept
    assert 'name="attachments/0/reference"' not in page  # nothing was stored to refer to
    for _, name, _content in DOCUMENTS:  # the uploads are kept aside for the next try, not stored
        assert f"Sudah diunggah: {name}" in page
    assert counts(deployed) == before == (0, 0, 0, 0)
    assert stored_blobs(deployed) == []


def kept_tokens(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(attachments/\d+)/kept" value="([^"]+)">', page))


def test_uploads_are_kept_after_a_refusal_and_used_when_the_form_is_sent_again(
        web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    refused = submit(loket, registration(applicant__full_name=None)).get_data(as_text=True)
    tokens = kept_tokens(refused)
    assert sorted(tokens) == ["attachments/0", "attachments/1", "attachments/2"]
    kept = deployed.settings.var_dir / "kept-uploads"
    assert len(list(kept.iterdir())) == 3

    def resend(data: dict, tokens: dict[str, str]) -> dict:
        form = browser_form(data, documents=[])
        for index, (document_type, _, _) in enumerate(DOCUMENTS):
            form[f"attachments/{index}/document_type"] = document_type
            form[f"attachments/{index}/kept"] = tokens[f"attachments/{index}"]
        return form

    # Refused again for another field: still kept, once each.
    again = post_form(loket, "/intake", resend(registration(applicant__occupation=None), tokens),
                      content_type="multipart/form-data")
    assert again.status_code == 400
    tokens = kept_tokens(again.get_data(as_text=True))
    assert sorted(tokens) == ["attachments/0", "attachments/1", "attachments/2"]
    assert len(list(kept.iterdir())) == 3

    # Sent again with everything filled in and no file chosen: the kept uploads are used.
    form = resend(registration(), tokens)
    response = post_form(loket, "/intake", form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        stored = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(a.document_type, a.filename, a.sha256) for a in stored] == [
            (t, name, hashlib.sha256(content).hexdigest()) for t, name, content in DOCUMENTS]
    assert list(kept.iterdir()) == []  # used, then removed

    # A token is the officer's own and is used once: replayed, or forged, it keeps nothing.
    again = post_form(loket, "/intake", form, content_type="multipart/form-data")
    assert again.status_code == 302
    with deployed.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 3


def test_a_kept_upload_belongs_to_the_officer_it_was_kept_for(web_app: Flask, deployed: Container) -> None:
    refused = submit(signed_in(web_app, "loket"), registration(applicant__full_name=None)).get_data(as_text=True)
    token = kept_tokens(refused)["attachments/0"]
    var, secret = deployed.settings.var_dir, deployed.settings.secret_key
    form = MultiDict({"attachments/0/kept": token})
    assert restore_kept_uploads(var, secret, "kasir", form, MultiDict()).tokens == []
    assert restore_kept_uploads(var, secret, "loket", MultiDict({"attachments/0/kept": token[:-2] + "xx"}),
                                MultiDict()).tokens == []
    mine = restore_kept_uploads(var, secret, "loket", form, MultiDict())
    assert mine.files["attachments/0"].filename == "ktp-siti.png"
    mine.close()
    # Nothing kept outlives a day.
    assert sweep_kept_uploads(var, now=time.time() + 25 * 3600) == 3
    assert restore_kept_uploads(var, secret, "loket", form, MultiDict()).tokens == []


def test_province_code_that_does_not_exist_is_refused(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    response = submit(loket, registration(applicant__nik="9914014507850002"))
    assert response.status_code == 400
    assert "bukan kode provinsi" in response.get_data(as_text=True)
    assert counts(deployed) == (0, 0, 0, 0)


def test_a_disguised_executable_is_refused_beside_its_row(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    documents = [("ktp", "ktp.pdf", b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode"),
                 ("sertifikat_tanah", "shm.pdf", PDF)]
    response = submit(loket, documents=documents)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="attachments/0-error"' in page and "Hanya dokumen PDF, JPEG atau PNG yang diterima." in page
    assert 'id="attachments/1-error"' not in page
    assert counts(deployed) == (0, 0, 0, 0)
    assert stored_blobs(deployed) == []


def test_a_reference_made_up_by_the_browser_is_not_an_attachment(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    form_extra = {"attachments/0/document_type": "ktp", "attachments/0/reference": "att-1",
                  "attachments/0/sha256": "a" * 64}
    from tests.files.intake_helpers import browser_form
    from tests.web import post_form

    response = post_form(loket, "/intake", {**browser_form(registration(), []), **form_extra},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Pilih berkas dokumen ini." in response.get_data(as_text=True)
    assert counts(deployed) == (0, 0, 0, 0)


def test_only_the_front_desk_registers(web_app: Flask) -> None:
    assert signed_in(web_app, "verifikator").get("/intake").status_code == 403
    assert signed_in(web_app, "manajer").get("/intake").status_code == 403
    assert web_app.test_client().get("/intake").status_code == 302
    loket_home = signed_in(web_app, "loket").get("/intake").get_data(as_text=True)
    assert 'href="/intake"' in loket_home  # in the navigation


def test_intake_form_without_csrf_token_is_refused(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    response = loket.post("/intake", data={"permit_type": "building_permit", "applicant/nik": "3314014507850002"})
    assert response.status_code == 400
    assert counts(deployed) == (0, 0, 0, 0)


def test_intake_page_in_english(web_app: Flask) -> None:
    loket = signed_in(web_app, "loket")
    page = loket.get("/intake?lang=en").get_data(as_text=True)
    assert "Register an application" in page and "Register and print the receipt" in page


def test_an_oversized_submission_is_refused_with_a_message(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    web_app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = submit(loket, documents=[("gambar_teknis", "gambar-besar.pdf", PDF * 200)])
    assert response.status_code == 413
    assert "Ukuran seluruh lampiran melebihi" in response.get_data(as_text=True)
    assert counts(deployed) == (0, 0, 0, 0)
    assert stored_blobs(deployed) == []


def test_every_deployed_permit_type_of_the_catalogue_can_be_chosen(web_app: Flask) -> None:
    from app import catalogue

    loket = signed_in(web_app, "loket")
    page = loket.get("/intake").get_data(as_text=True)
    choices = re.findall(r'<option value="(\w+)"[^>]*>', page.split('name="permit_type"', 1)[1].split("</select>", 1)[0])
    assert choices == [e.process_id for e in catalogue.entries()]
    assert loket.get("/intake?permit_type=no_such_permit").status_code == 404


def test_receipt_in_english_uses_the_catalogues_english(web_app: Flask) -> None:
    loket = signed_in(web_app, "loket")
    number, _, _ = register(loket)
    receipt = loket.get(f"/files/{number}/receipt?lang=en").get_data(as_text=True)
    assert "APPLICATION REGISTRATION RECEIPT" in receipt and "Land certificate or proof of ownership" in receipt
    assert "20 January 2026" in receipt and "10 working days" in receipt
