"""The task page: its form in Indonesian, errors beside their fields with nothing changed,
completing hands the file to the next lane, other lanes are kept out, and documents
uploaded with the form are stored (only real PDF, JPEG or PNG)."""
from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.container import Container
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.files.models import ApplicationFile, Attachment
from app.files.storage import attachments_dir
from tests import samples
from tests.walking import do_step, open_pbg, open_task, walk
from tests.web import signed_in
from tests.worklist.conftest import browser_form, submit_task, worklist_ids

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def snapshot(c: Container, task_id: int) -> tuple[Any, ...]:
    with c.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        events = session.scalar(select(func.count()).select_from(InstanceEvent))
        attachments = session.scalar(select(func.count()).select_from(Attachment))
        return task.status, task.claimed_by, instance.lock_version, instance.state, events, attachments


def survey_task(c: Container) -> tuple[str, int]:
    number = open_pbg(c)
    walk(c, number, [("loket", samples.REGISTRATION), ("verifikator", samples.CHECK_COMPLETE)])
    return number, open_task(c, number).id


def field_error(page: str, path: str) -> str | None:
    match = re.search(rf'<small class="field-error" id="{re.escape(path)}-error">([^<]*)</small>', page)
    return match.group(1) if match else None


def test_form_shows_its_step_file_and_indonesian_labels_with_the_history(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    do_step(office, number, "loket", samples.REGISTRATION)
    task_id = open_task(office, number).id

    page = signed_in(web_app, "verifikator").get(f"/tasks/{task_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Pemeriksaan kelengkapan berkas</h1>" in html
    assert number in html and "Siti Rahmawati" in html and "Verifikator Berkas" in html
    assert "Fotokopi/pindaian KTP pemohon ada dan sesuai" in html
    assert 'name="documents_complete"' in html and 'name="missing_documents"' in html
    assert ">Selesaikan</button>" in html
    # The history so far: who did which step, with the data of the completed step read-only.
    history = html[html.index("Riwayat berkas"):]
    assert "Berkas dibuka" in history and "Langkah selesai" in history
    assert "Registrasi permohonan" in history and "Sri Wahyuni" in history
    assert "<dt>Identitas pemohon \u203a NIK</dt><dd>3314014507850002</dd>" in history
    assert "<dt>Fungsi bangunan (yang dimohonkan)</dt><dd>Hunian</dd>" in history

    english = signed_in(web_app, "verifikator").get(f"/tasks/{task_id}?lang=en").get_data(as_text=True)
    assert ">Complete</button>" in english and "File history" in english


def test_errors_are_shown_beside_their_fields_and_nothing_changes(web_app: Flask, office: Container) -> None:
    _, task_id = survey_task(office)
    before = snapshot(office, task_id)
    teknis = signed_in(web_app, "teknis")
    response = submit_task(teknis, task_id, {
        "survey_date": "2026-01-14", "survey_team": "Ir. Bambang Sutrisno", "bap_number": "BAP/PBG/045/I/2026",
        "measured_floor_area_m2": "seratus", "measured_floors": "1", "building_function": "hunian",
        "building_class": "", "location_zone": "pinggiran_kota", "recommendation": "layak",
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Isian belum benar; periksa kolom berikut:" in page
    assert '<a href="#field-building_class">' in page  # the error summary links to the field
    assert field_error(page, "measured_floor_area_m2") == "harus berupa angka"
    assert field_error(page, "building_class") == "wajib diisi"
    assert field_error(page, "bap_number") is None
    assert 'name="measured_floor_area_m2" value="seratus"' in page  # what was typed is kept
    assert 'name="bap_number" value="BAP/PBG/045/I/2026"' in page
    assert snapshot(office, task_id) == before
    assert worklist_ids(teknis) == [task_id]


def test_a_valid_form_completes_and_the_next_lane_sees_the_next_step(web_app: Flask, office: Container) -> None:
    number, task_id = survey_task(office)
    teknis = signed_in(web_app, "teknis")
    survey = {k: v for k, v in samples.SURVEY.items() if k != "survey_photos"}
    response = submit_task(teknis, task_id, browser_form(office, "pbg_field_survey.json", survey))
    assert response.status_code == 302 and response.headers["Location"].endswith("/worklist")
    after = teknis.get("/worklist").get_data(as_text=True)
    assert f"Tugas \"Pemeriksaan lapangan (BAP)\" berkas {number} selesai." in after.replace("&#34;", '"')
    assert worklist_ids(teknis) == []

    kasir = signed_in(web_app, "kasir")
    [payment] = worklist_ids(kasir)
    page = kasir.get("/worklist").get_data(as_text=True)
    assert "Konfirmasi pembayaran retribusi" in page and number in page
    with office.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None and (task.status, task.completed_by) == ("completed", "teknis")
        assert session.get(HumanTask, payment).title == "Konfirmasi pembayaran retribusi"  # type: ignore[union-attr]


def test_another_lanes_task_is_forbidden_to_open_and_to_complete(web_app: Flask, office: Container) -> None:
    _, task_id = survey_task(office)  # the technical team's
    before = snapshot(office, task_id)
    kasir = signed_in(web_app, "kasir")
    assert kasir.get(f"/tasks/{task_id}").status_code == 403
    survey = {k: v for k, v in samples.SURVEY.items() if k != "survey_photos"}
    posted = submit_task(kasir, task_id, browser_form(office, "pbg_field_survey.json", survey), token_from="/worklist")
    assert posted.status_code == 403
    assert snapshot(office, task_id) == before
    assert signed_in(web_app, "teknis").get("/tasks/999999").status_code == 404


def registration_fields(c: Container, upload: tuple[bytes, str] | None) -> dict[str, Any]:
    data = {k: v for k, v in samples.REGISTRATION.items() if k != "attachments"}
    fields = browser_form(c, "pbg_registration.json", data)
    if upload is not None:
        fields["attachments/0/document_type"] = "ktp"
        fields["attachments/0"] = (io.BytesIO(upload[0]), upload[1])
    return fields


def test_an_uploaded_pdf_is_stored_and_referenced_in_the_step_data(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    task_id = open_task(office, number).id
    loket = signed_in(web_app, "loket")
    assert 'type="file" id="field-attachments/0" name="attachments/0"' in loket.get(f"/tasks/{task_id}").get_data(as_text=True)

    response = submit_task(loket, task_id, registration_fields(office, (PDF, "ktp-siti.pdf")))
    assert response.status_code == 302, response.get_data(as_text=True)
    digest = hashlib.sha256(PDF).hexdigest()
    with office.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        attachment = session.scalars(select(Attachment).where(Attachment.file_id == file.id)).one()
        assert (attachment.document_type, attachment.filename, attachment.sha256, attachment.uploaded_by) == (
            "ktp", "ktp-siti.pdf", digest, "loket")
        event = session.scalars(select(InstanceEvent).where(
            InstanceEvent.instance_id == file.instance_id, InstanceEvent.kind == "task_completed")).one()
        assert event.detail["data"]["attachments"] == [
            {"document_type": "ktp", "reference": f"att-{attachment.id}", "sha256": digest}]
    assert (attachments_dir(office.settings.var_dir) / digest).read_bytes() == PDF
    # The verifier sees the document among the registration's data.
    check_page = signed_in(web_app, "verifikator").get(f"/tasks/{open_task(office, number).id}").get_data(as_text=True)
    assert f"att-{attachment.id}" in check_page


def test_an_executable_disguised_as_a_pdf_is_refused_beside_its_field(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    task_id = open_task(office, number).id
    before = snapshot(office, task_id)
    loket = signed_in(web_app, "loket")
    response = submit_task(loket, task_id, registration_fields(office, (EXE, "ktp-siti.pdf")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "attachments/0") == "Berkas ditolak: hanya dokumen PDF, JPEG atau PNG yang diterima."
    assert 'name="applicant/nik" value="3314014507850002"' in page  # the rest of the form is kept
    assert snapshot(office, task_id) == before
    stored = attachments_dir(office.settings.var_dir)
    assert not stored.exists() or not any(stored.iterdir())


def test_a_reference_made_up_in_the_browser_is_not_accepted(web_app: Flask, office: Container) -> None:
    task_id = open_task(office, open_pbg(office)).id
    before = snapshot(office, task_id)
    fields = registration_fields(office, None)
    fields.update({"attachments/0/document_type": "ktp", "attachments/0/reference": "att-1",
                   "attachments/0/sha256": "a" * 64})
    response = submit_task(signed_in(web_app, "loket"), task_id, fields)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "attachments/0") == (
        "Dokumen ini bukan lampiran berkas ini; pilih berkasnya lagi.")
    assert snapshot(office, task_id) == before


def test_values_the_office_already_has_are_prefilled_on_first_view(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    walk(office, number, [("loket", samples.REGISTRATION), ("verifikator2", samples.CHECK_COMPLETE),
                          ("teknis", {**samples.SURVEY, "measured_floor_area_m2": 96.5}), ("kasir", samples.PAYMENT)])
    page = signed_in(web_app, "verifikator").get(f"/tasks/{open_task(office, number).id}").get_data(as_text=True)
    assert '<option value="hunian" selected>' in page  # the function the survey found
    assert re.search(r'name="permitted_floor_area_m2" value="96.5"', page)  # the measured area
    assert 'name="validity" value="selama_bangunan_berdiri" checked' not in page  # a decision, not prefilled


def test_an_upload_is_kept_when_the_form_is_refused_for_another_field(web_app: Flask, office: Container) -> None:
    number = open_pbg(office)
    task_id = open_task(office, number).id
    loket = signed_in(web_app, "loket")
    fields = registration_fields(office, (PDF, "ktp-siti.pdf"))
    fields.pop("applicant/full_name")
    refused = submit_task(loket, task_id, fields)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert field_error(page, "applicant/full_name") == "wajib diisi"
    assert "Sudah diunggah: ktp-siti.pdf" in page
    token = re.search(r'name="attachments/0/kept" value="([^"]+)"', page)
    assert token is not None

    again = registration_fields(office, None)
    again.update({"attachments/0/document_type": "ktp", "attachments/0/kept": token.group(1)})
    response = submit_task(loket, task_id, again)
    assert response.status_code == 302, response.get_data(as_text=True)
    with office.db.unit_of_work() as session:
        attachment = session.scalars(select(Attachment)).one()
        assert (attachment.filename, attachment.sha256) == ("ktp-siti.pdf", hashlib.sha256(PDF).hexdigest())
    assert not any((office.settings.var_dir / "kept-uploads").iterdir())
