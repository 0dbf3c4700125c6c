"""Registering an application through the JSON API: the browser's intake, over multipart."""
from __future__ import annotations

import hashlib

from flask import Flask
from sqlalchemy import event

from app.container import Container
from app.files.pins import pin_matches
from app.files.services import get_file
from tests.api.test_api import api, token_for
from tests.files.intake_helpers import DOCUMENTS, browser_form, registration
from tests.files.test_intake import counts, stored_blobs


def test_the_front_office_registers_a_file_with_its_documents(web_app: Flask, deployed: Container) -> None:
    client, token = web_app.test_client(), token_for(web_app, "loket")
    response = api(client, token, "POST", "/api/v1/files", data=browser_form(registration()),
                   content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["process_id"] == "building_permit" and len(body["pin"]) == 6 and body["promised_date"]
    assert body["attachments"] == [{"document_type": t, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
                                   for t, _, content in DOCUMENTS]
    # The file is at its second step, with the applicant and the PIN the tracking page checks.
    state = api(client, token, "GET", f"/api/v1/files/{body['file_number']}").get_json()
    assert [t["step"] for t in state["open_tasks"]] == ["check_documents"]
    with deployed.db.unit_of_work() as session:
        file = get_file(session, body["file_number"])
        assert file.applicant_nik == "3314014507850002"
        key = deployed.settings.secret_key
        assert pin_matches(file, body["pin"], key)
        assert not pin_matches(file, "000000" if body["pin"] != "000000" else "111111", key)
    assert len(stored_blobs(deployed)) == len(DOCUMENTS)


def test_a_registration_reads_its_permit_types_definition_once(web_app: Flask, deployed: Container) -> None:
    """The view finds the permit type's intake, definition and form; registering and opening the file
    use what it found instead of reading the definition again."""
    client, token = web_app.test_client(), token_for(web_app, "loket")
    statements: list[str] = []

    def on_statement(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(deployed.db.engine, "before_cursor_execute", on_statement)
    try:
        response = api(client, token, "POST", "/api/v1/files", data=browser_form(registration()),
                       content_type="multipart/form-data")
    finally:
        event.remove(deployed.db.engine, "before_cursor_execute", on_statement)
    assert response.status_code == 201, response.get_data(as_text=True)
    definition_reads = [s for s in statements if "FROM process_definition" in s and "bpmn_xml" not in s]
    assert len(definition_reads) == 1, definition_reads


def test_a_refused_registration_names_each_field_and_keeps_nothing(web_app: Flask, deployed: Container) -> None:
    client, token = web_app.test_client(), token_for(web_app, "loket")
    before = counts(deployed)
    response = api(client, token, "POST", "/api/v1/files",
                   data=browser_form(registration(applicant__sex="L", applicant__full_name=None),
                                     [("ktp", "ktp.exe", b"MZ\x90\x00 not a document")]),
                   content_type="multipart/form-data")
    assert response.status_code == 422
    error = response.get_json()["error"]
    fields = {d["field"]: d["message"] for d in error["details"]}
    assert "NIK ini milik perempuan" in fields["applicant/nik"]
    assert "applicant/full_name" in fields and "attachments/0" in fields
    assert counts(deployed) == before and stored_blobs(deployed) == []


def test_only_the_front_office_registers_and_only_multipart_is_read(web_app: Flask, deployed: Container) -> None:
    client = web_app.test_client()
    refused = api(client, token_for(web_app, "verifikator"), "POST", "/api/v1/files",
                  data=browser_form(registration()), content_type="multipart/form-data")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    loket = token_for(web_app, "loket")
    as_json = api(client, loket, "POST", "/api/v1/files", json={"permit_type": "building_permit"})
    assert as_json.status_code == 400 and as_json.get_json()["error"]["code"] == "bad_request"
    unknown = api(client, loket, "POST", "/api/v1/files", data={"permit_type": "no_such_permit"},
                  content_type="multipart/form-data")
    assert unknown.status_code == 404
    assert counts(deployed) == (0, 0, 0, 0)
