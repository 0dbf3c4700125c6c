"""The designer's pages and JSON endpoints, driven as a browser does (CSRF, cookies):
who may open them, deploy with validation and audit, drafts, forms with preview,
and moving running files from the process page."""
from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.config import ROOT
from app.container import Container
from app.designer.models import ProcessDraft
from app.engine.definitions import latest_definition
from app.engine.models import ProcessDefinition, ProcessInstance
from app.forms.models import FormVersion
from tests.designer.test_migration import building_permit_v2, start_file, walk
from tests.web import csrf_token, post_form, signed_in

BUILDING_PERMIT = (ROOT / "processes" / "building_permit.bpmn").read_text("utf-8")
GET_PAGES = ["/designer", "/designer/processes/building_permit", "/designer/modeler?process=building_permit",
             "/designer/modeler?process=building_permit&version=1", "/designer/definitions/1/diagram.bpmn",
             "/designer/forms", "/designer/forms/new", "/designer/forms/pbg_payment.json",
             "/designer/blank.bpmn?process=izin_baru&name=Izin+baru"]
POSTS = ["/designer/drafts", "/designer/validate", "/designer/deploy", "/designer/forms/preview",
         "/designer/forms/new", "/designer/forms/pbg_payment.json", "/designer/processes/building_permit/migration"]


def post_json(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    token = csrf_token(client, "/designer")
    return client.post(path, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token})


@pytest.fixture
def designer(web_app: Flask) -> FlaskClient:
    return signed_in(web_app, "perancang")


# -- who may -----------------------------------------------------------------
@pytest.mark.parametrize("username", ["verifikator", "kepala", "manajer"])
def test_others_get_403_on_every_designer_route(web_app: Flask, username: str) -> None:
    client = signed_in(web_app, username)
    token = csrf_token(client, "/login")
    for path in GET_PAGES:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert "/designer" not in client.get("/").get_data(as_text=True)


def test_anonymous_users_are_sent_to_sign_in(web_app: Flask) -> None:
    client = web_app.test_client()
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_designer_opens_every_page_and_sees_the_nav_entry(designer: FlaskClient, deployed: Container) -> None:
    with deployed.db.unit_of_work() as session:  # ids are not reset between tests (sequences outlive a rollback)
        definition = latest_definition(session, "building_permit")
        assert definition is not None
    for path in GET_PAGES:
        path = path.replace("/definitions/1/", f"/definitions/{definition.id}/")
        assert designer.get(path).status_code == 200, path
    assert designer.get("/").headers["Location"].endswith("/designer")
    page = designer.get("/designer").get_data(as_text=True)
    assert "Perancangan proses" in page and 'href="/designer"' in page
    english = designer.get("/designer?lang=en").get_data(as_text=True)
    assert "Process design" in english and "Running files" in english


def test_index_lists_versions_with_deployer_time_and_running_files(web_app: Flask, designer: FlaskClient) -> None:
    c = web_app.extensions["ptsp"]
    start_file(c)
    start_file(c)
    page = designer.get("/designer").get_data(as_text=True)
    row = re.search(r'<tbody data-process="building_permit">.*?<tr data-version="1">(.*?)</tr>', page, re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[0].strip() == "v1" and cells[1].strip() == "test" and cells[3].strip() == "2"
    assert "Persetujuan Bangunan Gedung (PBG)" in page


# -- the modeler's endpoints --------------------------------------------------------
def test_modeler_page_embeds_its_configuration_and_loads_only_from_self(designer: FlaskClient) -> None:
    page = designer.get("/designer/modeler?process=building_permit").get_data(as_text=True)
    assert "<script>" not in page  # CSP: scripts come from files only
    config = json.loads(re.search(r'<script type="application/json" id="designer-config">(.*?)</script>',
                                  page, re.S).group(1))  # type: ignore[union-attr]
    assert config["baseVersion"] == 1 and config["processId"] == "building_permit"
    assert [lane["key"] for lane in config["lanes"]] == ["front_office", "verifier", "technical_team", "cashier", "head"]
    assert config["escalationRoles"][-1]["key"] == "manager"
    assert "pbg_payment.json" in config["forms"]
    assert designer.get(config["xmlUrl"]).get_data(as_text=True) == BUILDING_PERMIT
    for asset in ("/vendor/js/bpmn-modeler.js", "/static/designer/modeler.js", "/static/designer/spiffworkflow-moddle.js"):
        with designer.get(asset) as response:
            assert response.status_code == 200, asset


def test_validate_lists_problems_with_their_elements(designer: FlaskClient) -> None:
    broken = BUILDING_PERMIT.replace('value="pbg_payment.json"', 'value="pbg_bayar.json"')
    body = post_json(designer, "/designer/validate", {"xml": broken}).get_json()
    assert body["ok"] is False
    assert body["problems"] == [{"element_id": "confirm_payment", "element_type": "userTask",
                                 "message": 'Formulir "pbg_bayar.json" tidak ada.',
                                 "where": "\u201cKonfirmasi pembayaran retribusi\u201d (jalur Kasir, formulir pbg_bayar.json)"}]
    assert post_json(designer, "/designer/validate", {"xml": BUILDING_PERMIT}).get_json() == {"ok": True, "problems": []}
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    [problem] = post_json(designer, "/designer/validate", {"xml": hostile}).get_json()["problems"]
    assert "DTD" in problem["message"] and "passwd" not in problem["message"]
    assert post_json(designer, "/designer/validate", {"nothing": 1}).status_code == 400


def test_deploy_refuses_an_invalid_diagram_and_creates_version_two_of_a_valid_one(
        web_app: Flask, designer: FlaskClient) -> None:
    c = web_app.extensions["ptsp"]
    broken = building_permit_v2().replace('name="head"', 'name="kepala_dinas"')
    refused = post_json(designer, "/designer/deploy", {"xml": broken})
    assert refused.status_code == 422
    assert {p["element_id"] for p in refused.get_json()["problems"]} == {"sign_permit"}
    with c.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)
                              .where(ProcessDefinition.process_id == "building_permit")) == 1

    deployed = post_json(designer, "/designer/deploy", {"xml": building_permit_v2()})
    assert deployed.status_code == 200, deployed.get_data(as_text=True)
    [outcome] = deployed.get_json()["outcomes"]
    assert (outcome["process_id"], outcome["version"], outcome["created"]) == ("building_permit", 2, True)
    with c.db.unit_of_work() as session:
        v2 = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == "building_permit",
                                                             ProcessDefinition.version == 2)).one()
        assert (v2.deployed_by, v2.source_name) == ("perancang", "building_permit.bpmn")
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.action == "process.deployed" and entry.detail["tasks"]["removed"] == ["field_survey"]
    again = post_json(designer, "/designer/deploy", {"xml": building_permit_v2()}).get_json()
    assert [(o["version"], o["created"]) for o in again["outcomes"]] == [(2, False)]
    page = designer.get("/designer/processes/building_permit").get_data(as_text=True)
    assert 'data-version="2"' in page
    # The change log names steps as people know them: name, lane and form (the id only on hover).
    assert "+ <span title=\"review_draft\">“Telaah draf izin”</span>" in page
    assert "jalur Verifikator Berkas, formulir pbg_permit_draft.json" in page
    assert "\u2212 <span title=\"field_survey\">“Pemeriksaan lapangan (BAP)”</span>" in page  # a minus sign
    assert ("“Registrasi permohonan PBG”</span><small class=\"muted\"> "
            "(jalur Loket Pelayanan, formulir pbg_registration.json)</small>: nama") in page


def test_drafts_are_saved_listed_and_reopened(web_app: Flask, designer: FlaskClient) -> None:
    saved = post_json(designer, "/designer/drafts", {"xml": building_permit_v2(), "base_version": 1}).get_json()
    assert saved["ok"] and saved["process_id"] == "building_permit"
    assert designer.get(f"/designer/drafts/{saved['id']}/diagram.bpmn").get_data(as_text=True) == building_permit_v2()
    assert designer.get(saved["url"]).status_code == 200
    assert f"draft={saved['id']}" in designer.get("/designer/processes/building_permit").get_data(as_text=True)
    refused = post_json(designer, "/designer/drafts", {"xml": "<not-bpmn/>"})
    assert refused.status_code == 422 and "bpmn:definitions" in refused.get_json()["error"]
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        draft = session.scalars(select(ProcessDraft)).one()
        assert (draft.saved_by, draft.base_version) == ("perancang", 1)


def test_a_new_process_starts_from_a_blank_valid_diagram(designer: FlaskClient) -> None:
    page = designer.get("/designer/modeler?process=izin_reklame&name=Izin+Reklame")
    assert page.status_code == 200
    blank = designer.get("/designer/blank.bpmn?process=izin_reklame&name=Izin+%3CReklame%3E").get_data(as_text=True)
    assert 'name="Izin &lt;Reklame&gt;"' in blank
    assert post_json(designer, "/designer/validate", {"xml": blank}).get_json() == {"ok": True, "problems": []}
    existing = designer.get("/designer/modeler?process=building_permit&name=Lain")
    assert existing.status_code == 302 and "version" not in existing.headers["Location"]


def test_the_bare_modeler_address_offers_the_processes_and_a_new_one(designer: FlaskClient) -> None:
    page = designer.get("/designer/modeler")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "flash-error" not in html
    assert 'href="/designer/modeler?process=building_permit"' in html
    assert 'name="process"' in html and 'name="name"' in html  # the new-process form


def test_the_browser_finds_the_offices_icon(web_app: Flask) -> None:
    with web_app.test_client().get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00" and b"PNG" in icon.data[:40]


# -- forms ---------------------------------------------------------------------
def test_form_preview_renders_fields_as_officers_see_them_or_says_what_is_wrong(designer: FlaskClient) -> None:
    schema = {"type": "object", "required": ["luas"], "properties": {
        "luas": {"title": "Luas bangunan (m2)", "type": "number", "minimum": 1},
        "fungsi": {"title": "Fungsi", "enum": ["hunian", "usaha", "sosial_budaya", "khusus"]}}}
    html = post_form(designer, "/designer/forms/preview", {"schema": json.dumps(schema)},
                     token_from="/designer/forms/new").get_data(as_text=True)
    assert 'name="luas"' in html and "Luas bangunan (m2)" in html and 'min="1"' in html
    assert '<select id="field-fungsi" name="fungsi"' in html
    bad_json = post_form(designer, "/designer/forms/preview", {"schema": '{"type": "object",\n "properties": {]}'},
                         token_from="/designer/forms/new").get_data(as_text=True)
    assert "JSON tidak valid pada baris 2" in bad_json
    bad_schema = post_form(designer, "/designer/forms/preview",
                           {"schema": json.dumps({"type": "object", "properties": {"x": {"type": "angka"}}})},
                           token_from="/designer/forms/new").get_data(as_text=True)
    assert "Skema JSON tidak sah di /properties/x/type" in bad_schema


def test_saving_a_form_stores_a_version_that_officers_get_at_once(web_app: Flask, designer: FlaskClient) -> None:
    c = web_app.extensions["ptsp"]
    assert "payment_reference" in c.forms.schema("pbg_payment.json")["properties"]  # cached from forms/
    schema = json.loads((ROOT / "forms" / "pbg_payment.json").read_text("utf-8"))
    schema["properties"]["payment_channel_note"] = {"title": "Catatan kanal pembayaran", "type": "string"}
    text = json.dumps(schema, indent=2, ensure_ascii=False)
    saved = post_form(designer, "/designer/forms/pbg_payment.json", {"schema": text})
    assert saved.status_code == 302
    assert "payment_channel_note" in c.forms.schema("pbg_payment.json")["properties"]
    page = designer.get("/designer/forms/pbg_payment.json").get_data(as_text=True)
    assert "payment_channel_note" in page and "Catatan kanal pembayaran" in page
    assert "disimpan v1 oleh perancang" in designer.get("/designer/forms").get_data(as_text=True)

    refused = post_form(designer, "/designer/forms/pbg_payment.json", {"schema": '{"type": "object"'})
    assert refused.status_code == 422 and "belum ada yang disimpan" in refused.get_data(as_text=True)
    with c.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(FormVersion)) == 1
        assert session.scalars(select(AuditEntry.action)).all() == ["form.saved"]


def test_a_new_form_gets_a_safe_unique_name_and_can_be_used_by_a_diagram(designer: FlaskClient) -> None:
    schema = json.dumps({"type": "object", "properties": {"catatan": {"type": "string"}}})
    assert post_form(designer, "/designer/forms/new", {"name": "../etc.json", "schema": schema}).status_code == 422
    assert post_form(designer, "/designer/forms/new", {"name": "pbg_payment.json", "schema": schema}).status_code == 422
    assert post_form(designer, "/designer/forms/new", {"name": "pbg_review.json", "schema": schema}).status_code == 302
    diagram = building_permit_v2().replace('value="pbg_permit_draft.json" />\n          <spiffworkflow:property '
                                           'name="dueWorkingDays" value="1" />\n          <spiffworkflow:property '
                                           'name="separateFrom"',
                                           'value="pbg_review.json" />\n          <spiffworkflow:property '
                                           'name="dueWorkingDays" value="1" />\n          <spiffworkflow:property '
                                           'name="separateFrom"')
    assert "pbg_review.json" in diagram
    assert post_json(designer, "/designer/validate", {"xml": diagram}).get_json()["ok"] is True


# -- moving running files from the process page --------------------------------------
def test_process_page_dry_run_then_move(web_app: Flask, designer: FlaskClient) -> None:
    c = web_app.extensions["ptsp"]
    movable, movable_number = start_file(c)
    stuck, _ = start_file(c)
    walk(c, stuck, ["register_application", "check_documents"])
    assert post_json(designer, "/designer/deploy", {"xml": building_permit_v2()}).status_code == 200

    form = {"instance": [str(movable), str(stuck)], "target_version": "2", "action": "dry_run"}
    page = html.unescape(post_form(designer, "/designer/processes/building_permit/migration", form,
                                   token_from="/designer/processes/building_permit").get_data(as_text=True))
    assert "Dapat dipindah" in page and movable_number in page
    assert 'Langkah "Pemeriksaan lapangan (BAP)" (field_survey) sedang berjalan tetapi tidak ada di versi 2.' in page
    with c.db.unit_of_work() as session:
        assert session.get(ProcessInstance, movable).definition.version == 1  # type: ignore[union-attr]

    form["action"] = "migrate"
    done = post_form(designer, "/designer/processes/building_permit/migration", form,
                     token_from="/designer/processes/building_permit").get_data(as_text=True)
    assert "1 berkas dipindahkan ke versi 2." in done and "1 berkas tetap di versinya." in done
    with c.db.unit_of_work() as session:
        assert session.get(ProcessInstance, movable).definition.version == 2  # type: ignore[union-attr]
        assert session.get(ProcessInstance, stuck).definition.version == 1  # type: ignore[union-attr]
    # The process page lists the move: the file, by whom, from which version to which.
    page = designer.get("/designer/processes/building_permit").get_data(as_text=True)
    moves = page[page.index('data-testid="migrations"'):]
    moves = moves[:moves.index("</table>")]
    assert moves.count("<tr data-file=") == 1 and f'<tr data-file="{movable_number}">' in moves
    assert "<td>perancang</td>" in moves and "<td>v1</td><td>v2</td>" in moves
    nothing = post_form(designer, "/designer/processes/building_permit/migration", {"action": "dry_run"},
                        token_from="/designer/processes/building_permit")
    assert nothing.status_code == 302
    for bad in ({"target_version": "dua"}, {"target_version": "0"}, {"action": "hapus"}):
        refused = post_form(designer, "/designer/processes/building_permit/migration",
                            {"instance": [str(stuck)], "action": "migrate", **bad},
                            token_from="/designer/processes/building_permit")
        assert refused.status_code == 400, bad
    with c.db.unit_of_work() as session:
        assert session.get(ProcessInstance, stuck).definition.version == 1  # type: ignore[union-attr]
