"""The file page: every step with who, when and how long, the documents, and the
diagram of the file's own definition version; for officers, managers and administrators only."""
from __future__ import annotations

import hashlib
import json
import re

from flask import Flask
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.files.models import ApplicationFile, Attachment
from tests import samples
from tests.files.intake_helpers import DOCUMENTS, register
from tests.walking import do_step
from tests.web import signed_in


def timeline_rows(page: str) -> dict[str, str]:
    return {m.group(1): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2))).strip()
            for m in re.finditer(r'<tr class="step-\w+" data-step="(\w+)">(.*?)</tr>', page, re.S)}


def test_timeline_shows_each_step_with_its_officer_and_duration(web_app: Flask, deployed: Container,
                                                                clock: FixedClock) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    clock.advance(hours=2, minutes=30)
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)
    clock.advance(days=1, hours=3)

    response = signed_in(web_app, "manajer").get(f"/files/{number}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = timeline_rows(page)
    assert list(rows) == ["register_application", "check_documents", "field_survey"]
    assert "Registrasi permohonan" in rows["register_application"] and "Sri Wahyuni" in rows["register_application"]
    assert "Bambang Sutrisno" in rows["check_documents"] and "2 jam 30 menit" in rows["check_documents"]
    assert "sedang dikerjakan" in rows["field_survey"] and "1 hari 3 jam" in rows["field_survey"]
    assert "Berkas dibuka" in page  # the process's own events are in the history too
    current = page.split("Langkah saat ini", 1)[1].split("Riwayat berkas", 1)[0]
    assert "Pemeriksaan lapangan (BAP)" in current and "Tim Teknis" in current
    # Promised 20 January; on Tuesday 6 January 11:30 there are 9 working days left.
    assert "20 Januari 2026" in page and "9 hari kerja lagi" in page
    marks = json.loads(re.search(r'id="file-diagram-marks">(.*?)</script>', page, re.S).group(1))
    assert marks == {"done": ["check_documents", "register_application"], "current": ["field_survey"]}
    for _, name, content in DOCUMENTS:
        assert name in page and hashlib.sha256(content).hexdigest()[:12] in page


def test_page_scripts_are_static_files_only(web_app: Flask) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    page = signed_in(web_app, "verifikator").get(f"/files/{number}").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    executable = [(attrs, body) for attrs, body in scripts if 'type="application/json"' not in attrs]
    assert executable and all('src="/' in attrs and not body.strip() for attrs, body in executable)
    assert 'src="/vendor/js/bpmn-viewer.js"' in page and 'src="/static/files/diagram.js"' in page
    client = web_app.test_client()
    for path in ("/vendor/js/bpmn-viewer.js", "/static/files/diagram.js", "/static/files/files.css"):
        with client.get(path) as response:
            assert response.status_code == 200, path


def test_diagram_xml_is_the_files_own_definition_version(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    response = signed_in(web_app, "kasir").get(f"/files/{number}/diagram.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        assert response.get_data(as_text=True) == file.instance.definition.bpmn_xml
    assert 'id="register_application"' in response.get_data(as_text=True)


def test_documents_download_for_officers_as_attachments(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    with deployed.db.unit_of_work() as session:
        ids = session.scalars(select(Attachment.id).order_by(Attachment.id)).all()
    teknis = signed_in(web_app, "teknis")
    for attachment_id, (_, name, content) in zip(ids, DOCUMENTS, strict=True):
        with teknis.get(f"/files/{number}/attachments/{attachment_id}") as response:
            assert response.status_code == 200
            assert response.data == content
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert name in response.headers["Content-Disposition"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.mimetype in ("application/pdf", "image/png")
            assert "no-store" in response.headers["Cache-Control"]
    with signed_in(web_app, "admin").get(f"/files/{number}/attachments/{ids[0]}") as response:
        assert response.status_code == 200


def test_anonymous_users_and_designers_are_kept_out(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    with deployed.db.unit_of_work() as session:
        attachment_id = session.scalars(select(Attachment.id)).first()
    paths = [f"/files/{number}", f"/files/{number}/diagram.xml", f"/files/{number}/receipt",
             f"/files/{number}/attachments/{attachment_id}"]
    anonymous = web_app.test_client()
    designer = signed_in(web_app, "perancang")
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
        assert designer.get(path).status_code == 403, path


def test_a_document_of_another_file_or_an_unknown_file_is_not_found(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    first, _, _ = register(loket)
    second, _, _ = register(loket, documents=[])
    with deployed.db.unit_of_work() as session:
        attachment_id = session.scalars(select(Attachment.id)).first()
    manager = signed_in(web_app, "manajer")
    assert manager.get(f"/files/{second}/attachments/{attachment_id}").status_code == 404
    assert manager.get("/files/PBG-2026-999999").status_code == 404
    assert "Belum ada dokumen." in manager.get(f"/files/{second}").get_data(as_text=True)
    assert manager.get(f"/files/{first}").status_code == 200


def test_a_file_opened_without_intake_still_has_a_page_and_a_receipt(web_app: Flask, deployed: Container) -> None:
    from app.files.services import open_file

    with deployed.db.unit_of_work() as session:
        number = open_file(session, deployed.runtime, deployed.settings, "building_permit", "Budi", "loket").file_number
    officer = signed_in(web_app, "verifikator")
    page = officer.get(f"/files/{number}")
    assert page.status_code == 200 and "Registrasi permohonan" in page.get_data(as_text=True)
    receipt = officer.get(f"/files/{number}/receipt").get_data(as_text=True)
    assert "Budi" in receipt and "PIN telah diberikan" in receipt
