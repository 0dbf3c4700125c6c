"""Who read an applicant's personal data: every view logged (who, when, which file, from where),
the NIK masked unless the officer's open step needs it (then shown by a logged action), and the
log shown to administrators per file and per officer."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import event, select

from app.container import Container
from app.engine.models import HumanTask
from app.files.models import ApplicationFile, Attachment
from app.privacy.models import PersonalDataAccess
from tests import samples
from tests.files.intake_helpers import register
from tests.walking import do_step
from tests.web import post_form, signed_in

NIK = samples.REGISTRATION["applicant"]["nik"]
MASKED = "*" * 12 + NIK[-4:]


def accesses(c: Container) -> list[tuple[str, str, str, str | None, str | None]]:
    with c.db.unit_of_work() as session:
        return [(a.actor, number, a.what, a.ip, a.detail) for a, number in session.execute(
            select(PersonalDataAccess, ApplicationFile.file_number)
            .join(ApplicationFile, ApplicationFile.id == PersonalDataAccess.file_id).order_by(PersonalDataAccess.id))]


def test_each_view_is_logged_with_one_insert_and_the_nik_stays_masked(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    teknis = signed_in(web_app, "teknis")
    statements: list[str] = []
    event.listen(deployed.db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    page = teknis.get(f"/files/{number}", environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_data(as_text=True)
    assert len([s for s in statements if "personal_data_access" in s]) == 1  # one INSERT, no read
    assert MASKED in page and NIK not in page and "Tampilkan NIK" not in page
    refused = post_form(teknis, f"/files/{number}/nik", {}, token_from=f"/files/{number}")
    assert refused.status_code == 403
    with deployed.db.unit_of_work() as session:
        attachment_id = session.scalars(select(Attachment.id).order_by(Attachment.id)).first()
    with teknis.get(f"/files/{number}/attachments/{attachment_id}") as download:
        assert download.status_code == 200
    logged = accesses(deployed)
    assert ("teknis", number, "file_page", "10.1.2.3", None) in logged
    assert ("teknis", number, "attachment", "127.0.0.1", f"{attachment_id} ktp") in logged
    assert not any(what == "nik" for _, _, what, _, _ in logged)


def test_the_verifier_checking_documents_shows_the_nik_by_a_logged_action(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    verifier = signed_in(web_app, "verifikator")
    page = verifier.get(f"/files/{number}").get_data(as_text=True)
    assert MASKED in page and NIK not in page and "Tampilkan NIK" in page
    shown = post_form(verifier, f"/files/{number}/nik", {}, token_from=f"/files/{number}")
    assert shown.status_code == 200 and f'data-testid="nik">{NIK}<' in shown.get_data(as_text=True)
    assert ("verifikator", number, "nik") in [(a, n, w) for a, n, w, _, _ in accesses(deployed)]

    # The worklist (a list of applicants) and the task page are logged; the check step shows the NIK.
    assert number in verifier.get("/worklist").get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        instance_id = session.scalar(select(ApplicationFile.instance_id).where(ApplicationFile.file_number == number))
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "open"))
    task_page = verifier.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert NIK in task_page
    kinds = [(a, n, w) for a, n, w, _, _ in accesses(deployed)]
    assert ("verifikator", number, "search") in kinds and ("verifikator", number, "task_page") in kinds

    # Past the document check, the next step's officer sees the registration data with the NIK masked.
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)
    with deployed.db.unit_of_work() as session:
        survey_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                              HumanTask.status == "open"))
    survey_page = signed_in(web_app, "teknis").get(f"/tasks/{survey_id}").get_data(as_text=True)
    assert MASKED in survey_page and NIK not in survey_page
    assert post_form(verifier, f"/files/{number}/nik", {}, token_from=f"/files/{number}").status_code == 403


def test_administrators_see_the_log_per_file_and_per_officer(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    signed_in(web_app, "teknis").get(f"/files/{number}")
    signed_in(web_app, "kasir").get(f"/files/{number}")
    admin = signed_in(web_app, "admin")
    per_file = admin.get(f"/admin/personal-data?file={number}").get_data(as_text=True)
    rows = re.findall(r'<tr data-what="(\w+)"><td>[^<]*</td>\s*<td><a[^>]*>(\w+)</a>', per_file)
    assert ("file_page", "kasir") in rows and ("file_page", "teknis") in rows
    per_officer = admin.get("/admin/personal-data?officer=teknis").get_data(as_text=True)
    officers = set(re.findall(r'<td><a href="/admin/personal-data\?officer=\w+">(\w+)</a></td>\s*<td>'
                              r'<a href="/admin/personal-data\?file=', per_officer))
    assert officers == {"teknis"}
    assert signed_in(web_app, "teknis").get("/admin/personal-data").status_code == 403
