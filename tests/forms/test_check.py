"""The one form check (issue 9 §1, issue 10 item 11): a form file that is not JSON, not a JSON
Schema, or has a required field the browser cannot fill is refused with file, field and reason
at deploy, by /healthz, by the designer's check and save; a step whose form broke after deploy
says so instead of a 500; one broken diagram does not stop the others from deploying."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import ROOT, Settings
from app.designer.validation import validate_diagram
from app.forms.check import check_form_text
from app.forms.registry import FormRegistry
from app.publisher import RecordingPublisher
from tests.walking import open_pbg, open_task
from tests.web import post_form, signed_in


def truncated(name: str) -> str:
    text = (ROOT / "forms" / name).read_text("utf-8")
    return text[: len(text) // 2]


def test_every_form_in_the_repository_passes() -> None:
    assert FormRegistry(ROOT / "forms").broken() == {}


def test_a_truncated_form_is_refused_with_file_and_reason() -> None:
    schema, problems = check_form_text("pbg_payment.json", truncated("pbg_payment.json"))
    assert schema is None and len(problems) == 1
    assert str(problems[0]).startswith("pbg_payment.json: (seluruh formulir): JSON tidak valid pada baris 11")


@pytest.mark.parametrize(("schema", "field", "reason"), [
    ({"type": "object", "required": ["a"], "properties": {}}, "a", "tidak ada di \"properties\""),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "enum": []}}}, "a",
     "tidak punya pilihan"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"oneOf": [{"type": "object"}]}}}, "a",
     "tidak punya pilihan"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}},
     "a", "minimum 5 lebih besar dari maksimum 1"),
    ({"type": "object", "required": ["g"], "properties": {"g": {"type": "object", "required": ["b"],
                                                                "properties": {}}}}, "g/b", "tidak ada"),
    ({"type": "object", "properties": {"p": {"type": "string", "pattern": "^[a-z"}}}, "p", "pola (pattern)"),
    ({"type": "object", "properties": {"n": {"type": "number", "minimum": "nol"}}}, "n", "Skema JSON tidak sah"),
    ({"type": "object", "required": ["r"], "properties": {"r": {"$ref": "#/$defs/none"}}}, "r", "$ref"),
    ({"type": "object", "required": ["l"], "properties": {"l": {"type": "array", "minItems": 1, "items": {
        "type": "array"}}}}, "l", "daftar bertingkat"),
])
def test_unusable_schemas_are_refused_naming_the_field(schema: dict, field: str, reason: str) -> None:
    _, problems = check_form_text("x.json", json.dumps(schema))
    assert any(p.field == field and reason in p.reason for p in problems), problems


def test_optional_oddities_do_not_refuse_a_form() -> None:
    _, problems = check_form_text("x.json", json.dumps({"type": "object", "properties": {
        "a": {"type": "string", "enum": []}, "b": {"type": "integer", "minimum": 5, "maximum": 1}}}))
    assert problems == []


def broken_office(tmp_path: Path) -> Settings:
    forms, processes = tmp_path / "forms", tmp_path / "processes"
    shutil.copytree(ROOT / "forms", forms)
    shutil.copytree(ROOT / "processes", processes)
    (forms / "pbg_payment.json").write_text(truncated("pbg_payment.json"), "utf-8")
    (processes / "zz_broken.bpmn").write_text("<definitions", "utf-8")  # not in the catalogue
    return Settings(database_url=f"sqlite:///{tmp_path / 'office.sqlite'}", var_dir=tmp_path / "var",
                    forms_dir=forms, processes_dir=processes,
                    broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")


def test_deploy_deploys_the_good_diagrams_and_reports_the_broken_ones(tmp_path: Path) -> None:
    app = create_app(broken_office(tmp_path), publisher=RecordingPublisher())
    runner = app.test_cli_runner()
    assert runner.invoke(args=["migrate"]).exit_code == 0
    result = runner.invoke(args=["deploy", "--as", "system"])
    assert result.exit_code == 2, result.output
    out = result.output  # stdout and stderr, as on the terminal
    assert "FORM REFUSED" in result.stderr and "zz_broken.bpmn" in result.stderr
    assert "FORM REFUSED  pbg_payment.json: (seluruh formulir): JSON tidak valid pada baris 11" in out
    assert "zz_broken.bpmn" in out and "building_permit.bpmn" in out  # it uses the broken form
    for process in ("trade_licence", "nuisance_permit", "road_use_permit", "advertisement_permit", "bundle_new_shop"):
        assert f"deployed   {process} v1" in out
    assert "deployed   building_permit" not in out

    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    body = health.get_json()
    assert body["status"] == "degraded" and body["definitions"]["ok"] is False
    assert "JSON tidak valid" in body["definitions"]["broken_forms"]["pbg_payment.json"]
    assert set(body["definitions"]["broken_diagrams"]) == {"zz_broken.bpmn", "building_permit.bpmn"}
    app.extensions["ptsp"].db.dispose()


def test_the_designer_check_says_a_task_whose_form_fails_is_not_ready() -> None:
    diagram = (ROOT / "processes" / "building_permit.bpmn").read_bytes()
    forms = FormRegistry(ROOT / "forms").names()
    assert validate_diagram(diagram, "b.bpmn", known_forms=forms) == []
    problems = validate_diagram(diagram, "b.bpmn", known_forms=forms,
                                broken_forms={"pbg_payment.json": "JSON tidak valid pada baris 11"})
    assert [p["message"] for p in problems] == [
        'Formulir "pbg_payment.json" tidak lolos pemeriksaan formulir: JSON tidak valid pada baris 11']


def test_the_form_editor_refuses_a_form_the_browser_cannot_fill(web_app: Flask) -> None:
    designer = signed_in(web_app, "perancang")
    text = json.dumps({"type": "object", "required": ["masa"], "properties": {"masa": {"type": "string", "enum": []}}})
    response = post_form(designer, "/designer/forms/new", {"name": "uji_masa.json", "schema": text},
                         token_from="/designer/forms/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "masa: wajib diisi tetapi tidak punya pilihan" in page
    assert "uji_masa.json" not in designer.get("/designer/forms").get_data(as_text=True)


def test_a_step_whose_form_broke_after_deploy_says_so_instead_of_a_500(web_app: Flask, tmp_path: Path) -> None:
    c = web_app.extensions["ptsp"]
    number = open_pbg(c)
    task_id = open_task(c, number).id
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    (forms / "pbg_registration.json").write_text(truncated("pbg_registration.json"), "utf-8")
    c.forms.forms_dir = forms
    loket = signed_in(web_app, "loket")
    page = loket.get(f"/tasks/{task_id}")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "Formulir langkah ini (pbg_registration.json) tidak dapat dipakai" in html and "JSON tidak valid" in html
    posted = post_form(loket, f"/tasks/{task_id}", {"applicant/nik": "1"}, token_from="/worklist")
    assert posted.status_code == 503
    assert open_task(c, number).id == task_id  # still open, nothing completed


def test_the_designer_preview_shows_the_masa_berlaku_choices(web_app: Flask) -> None:
    designer = signed_in(web_app, "perancang")
    text = (ROOT / "forms" / "pbg_permit_draft.json").read_text("utf-8")
    html = post_form(designer, "/designer/forms/preview", {"schema": text},
                     token_from="/designer/forms/new").get_data(as_text=True)
    assert 'name="validity" value="selama_bangunan_berdiri"' in html and "Selama bangunan berdiri" in html
    assert 'name="validity/oneOf/1"' in html and "Jumlah tahun" in html
