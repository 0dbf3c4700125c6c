"""Every JSON Schema construct the forms use (or the form editor can produce) renders as a
field an officer can fill, named by its path with a label, and comes back as the right JSON;
each keyword's error reads in the officer's language beside its field (issue 9 §1, §4)."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, render_template_string
from werkzeug.datastructures import MultiDict

from app import i18n
from app.config import ROOT
from app.forms.registry import FormRegistry
from app.forms.render import build_fields, error_items
from app.forms.values import parse_submission

FORMS = FormRegistry(ROOT / "forms")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["size", "kind", "when", "rows", "validity", "agree"],
    "properties": {
        "size": {"title": "Ukuran", "type": "string", "oneOf": [
            {"const": "s", "title": "Kecil"}, {"const": "m", "title": "Sedang"}, {"const": "l", "title": "Besar"},
            {"const": "xl", "title": "Sangat besar"}]},
        "kind": {"title": "Jenis", "anyOf": [{"const": 1, "title": "Satu"}, {"const": 2, "title": "Dua"}]},
        "when": {"title": "Tanggal", "type": "string", "format": "date"},
        "mail": {"title": "Surel", "type": "string", "format": "email"},
        "count": {"title": "Jumlah", "type": "integer", "minimum": 1, "maximum": 5, "default": 2},
        "note": {"title": "Catatan", "type": "string", "default": "-", "pattern": "^[0-9]{5}$"},
        "agree": {"title": "Setuju", "type": "boolean", "const": True},
        "flag": {"title": "Tanda", "type": "string", "enum": ["ya", "tidak"]},
        "tags": {"title": "Label", "type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "place": {"title": "Tempat", "type": "object", "required": ["city"], "properties": {
            "city": {"title": "Kota", "type": "string"}}},
        "rows": {"title": "Baris", "type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"title": "Nama", "type": "string"}, "qty": {"title": "Qty", "type": "number"}}}},
        "validity": {"title": "Masa berlaku", "oneOf": [
            {"title": "Selama bangunan berdiri", "type": "string", "const": "selama_bangunan_berdiri"},
            {"title": "Jumlah tahun", "type": "integer", "minimum": 1, "maximum": 100}]},
    },
}


def render(fields: Any) -> str:
    app = Flask("t", template_folder=str(ROOT / "app" / "templates"))
    app.jinja_env.globals["_"] = lambda text, **kw: text.format(**kw) if kw else text
    with app.test_request_context():
        return render_template_string('{% from "forms/fields.html" import render_fields, error_summary %}'
                                      "{{ error_summary(items) }}{{ render_fields(fields) }}",
                                      fields=fields, items=error_items(fields))


def by_path(fields: Any) -> dict[str, Any]:
    found = {}
    for f in fields:
        found[f.path] = f
        found.update(by_path(f.children))
        for row in f.rows:
            found.update(by_path(row))
    return found


def test_each_construct_renders_as_a_labelled_field_named_by_its_path() -> None:
    fields = by_path(build_fields(SCHEMA))
    assert (fields["size"].kind, [v for v, _ in fields["size"].options]) == ("select", ["s", "m", "l", "xl"])
    assert fields["size"].options[3] == ("xl", "Sangat besar")
    assert (fields["kind"].kind, fields["kind"].options) == ("radio", [("1", "Satu"), ("2", "Dua")])
    assert (fields["when"].kind, fields["mail"].kind, fields["agree"].kind) == ("date", "email", "checkbox")
    assert fields["count"].attrs == {"min": 1, "max": 5, "step": "1"} and fields["count"].value == 2
    assert fields["note"].value == "-"  # defaults
    assert fields["tags"].kind == "multi" and fields["place/city"].required
    assert fields["rows"].kind == "rows" and [r[0].path for r in fields["rows"].rows] == ["rows/0"]
    assert fields["validity"].kind == "choice"
    html = render(build_fields(SCHEMA))
    for name in ("size", "when", "mail", "count", "note", "agree", "place/city", "rows/0/name", "rows/0/qty"):
        assert f'id="field-{name}" name="{name}"' in html, name
        assert f'<label for="field-{name}">' in html, name
    for value in ("s", "m", "l", "xl"):
        assert f'<option value="{value}" >' in html
    assert 'type="radio" id="field-kind--0" name="kind" value="1"' in html
    assert 'type="date" id="field-when"' in html and 'type="email" id="field-mail"' in html
    # Rows: one blank row without JavaScript, a template and add/remove buttons for forms.js.
    assert 'data-max-items="3"' in html and 'name="rows/__index__/name"' in html and "Tambah baris" in html


def test_the_pbg_validity_choice_offers_both_alternatives_and_parses_each() -> None:
    schema = FORMS.schema("pbg_permit_draft.json")
    html = render(build_fields(schema))
    assert 'type="radio" id="field-validity--0" name="validity" value="selama_bangunan_berdiri"' in html
    assert ">Selama bangunan berdiri</label>" in html
    assert 'name="validity" value="oneOf/1"' in html and ">Jumlah tahun</label>" in html
    assert 'type="number" id="field-validity/oneOf/1" name="validity/oneOf/1"' in html and 'max="100"' in html
    parse = lambda form: parse_submission(schema, MultiDict(form)).get("validity")  # noqa: E731
    assert parse({"validity": "selama_bangunan_berdiri", "validity/oneOf/1": ""}) == "selama_bangunan_berdiri"
    assert parse({"validity": "oneOf/1", "validity/oneOf/1": "5"}) == 5
    assert parse({"validity/oneOf/1": "7"}) == 7  # typed without ticking its radio
    assert parse({"validity": "oneOf/1"}) is None  # chosen but empty: "required" beside the field
    # Shown again as chosen.
    again = render(build_fields(schema, {"validity": 5}, defaults=False))
    assert 'name="validity" value="oneOf/1" checked' in again and 'name="validity/oneOf/1" aria-label' in again
    assert re.search(r'name="validity/oneOf/1"[^>]*value="5"', again)
    complete = {"permitted_function": "hunian", "permitted_floor_area_m2": "120", "validity": "oneOf/1",
                "validity/oneOf/1": "20"}
    assert FORMS.validate("pbg_permit_draft.json", parse_submission(schema, MultiDict(complete))) == []


def test_submitted_values_come_back_typed_nested_and_in_rows() -> None:
    form = MultiDict([("size", "xl"), ("kind", "2"), ("when", "2026-03-02"), ("count", "3"), ("agree", "on"),
                      ("tags", "a"), ("tags", "b"), ("place/city", "Kudus"), ("rows/0/name", "x"),
                      ("rows/0/qty", "1,5"), ("rows/1/name", ""), ("rows/4/name", "y"), ("validity", "oneOf/1"),
                      ("validity/oneOf/1", "12")])
    data = parse_submission(SCHEMA, form)
    assert (data["size"], data["kind"], data["count"], data["agree"]) == ("xl", 2, 3, True)
    assert data["tags"] == ["a", "b"] and data["place"] == {"city": "Kudus"}
    assert data["rows"] == [{"name": "x", "qty": 1.5}, {"name": "y"}] and data["validity"] == 12
    assert "flag" not in data and "note" not in data  # empty inputs are left out


def test_an_empty_required_group_reports_each_of_its_fields() -> None:
    data = parse_submission(SCHEMA, MultiDict())
    assert "place" not in data  # an optional group left empty is left out
    registration = FORMS.schema("bundle_new_shop_registration.json")
    errors = {e.field for e in FORMS.validate("bundle_new_shop_registration.json",
                                              parse_submission(registration, MultiDict()))}
    assert {"applicant/nik", "applicant/full_name", "business/nib", "applicant_address/postcode"} <= errors


def messages(name: str, data: dict[str, Any]) -> dict[str, str]:
    return {e.field: e.message for e in FORMS.validate(name, data)}


def test_every_keyword_has_an_indonesian_message() -> None:
    survey = messages("bundle_new_shop_registration.json", {
        "applicant": {"nik": "12", "full_name": "A", "sex": "X", "birth_date": "2026-02-30"},
        "applicant_email": "bukan-surel", "trade_application": {"kbli_codes": [], "declared_net_assets": -1},
        "nuisance_application": {"declared_floor_area_m2": 0, "employees": "dua"},
        "applicant_address": {"postcode": "1234"}})
    assert survey["applicant/nik"] == "harus 16 digit angka"
    assert survey["applicant/full_name"] == "paling sedikit 2 karakter"
    assert survey["applicant/sex"] == "pilih salah satu pilihan yang tersedia"
    assert survey["applicant/birth_date"] == "bukan tanggal yang sah (TTTT-BB-HH)"
    assert survey["applicant/birthplace"] == "wajib diisi"
    assert survey["applicant_email"] == "bukan alamat surel yang sah"
    assert survey["trade_application/kbli_codes"] == "isi paling sedikit 1 baris"
    assert survey["trade_application/declared_net_assets"] == "paling kecil 0"
    assert survey["nuisance_application/declared_floor_area_m2"] == "harus lebih besar dari 0"
    assert survey["nuisance_application/employees"] == "harus berupa bilangan bulat"
    assert survey["applicant_address/postcode"] == "harus 5 digit angka"
    draft = messages("pbg_permit_draft.json", {"validity": 150, "permitted_floor_area_m2": 2000000,
                                               "draft_notes": "x" * 2001})
    assert draft["validity"] == "paling besar 100"
    assert draft["permitted_floor_area_m2"] == "paling besar 1.000.000"
    assert draft["draft_notes"] == "paling banyak 2000 karakter"
    assert messages("pbg_payment.json", {"payment_received": False})["payment_received"] == "harus dicentang"
    for text in (*survey.values(), *draft.values()):
        assert not re.search(r"\b(is|should|must|does)\b", text), text  # no English left


def test_messages_are_english_in_english_mode() -> None:
    app = Flask("t")
    i18n.init_app(app, timezone="Asia/Jakarta")  # the English catalogue (Flask-Babel)
    with app.test_request_context("/?lang=en"):
        found = messages("bundle_new_shop_registration.json", {
            "trade_application": {"kbli_codes": ["123"]}, "applicant": {"nik": "1"}})
        assert found["trade_application/kbli_codes/0"] == "must be 5 digits"
        assert found["applicant/nik"] == "must be 16 digits" and found["applicant/sex"] == "required"


def test_a_kbli_line_error_is_shown_beside_the_kbli_field_and_linked_from_the_summary() -> None:
    schema = FORMS.schema("bundle_new_shop_registration.json")
    data = parse_submission(schema, MultiDict({"trade_application/kbli_codes": "47111\n4711"}))
    errors = {e.field: e.message for e in FORMS.validate("bundle_new_shop_registration.json", data)}
    assert errors["trade_application/kbli_codes/1"] == "harus 5 digit angka"
    html = render(build_fields(schema, data, errors, defaults=False))
    field = re.search(r'<textarea id="field-trade_application/kbli_codes"[^>]*>', html)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="trade_application/kbli_codes-error trade_application/kbli_codes-help"' in field.group(0)
    assert ('<small class="field-error" id="trade_application/kbli_codes-error">baris 2: harus 5 digit angka</small>'
            in html)
    summary = html[html.index('id="error-summary"'):html.index("</ul>")]
    assert '<a href="#field-trade_application/kbli_codes">Permohonan SIUP \u203a Kode KBLI</a>' in summary
    # Every field with an error is marked and described, not only some of them.
    invalid = re.findall(r'<(?:input|select|textarea)[^>]*aria-invalid="true"[^>]*>', html)
    marked = {re.search(r'name="([^"]+)"', tag).group(1) for tag in invalid}  # type: ignore[union-attr]
    expected = {p for p in errors if not p.startswith("trade_application/kbli_codes/")} | {
        "trade_application/kbli_codes"}
    groups = {p for p in expected if p in ("applicant", "applicant_address", "business", "nuisance_application",
                                           "advertisement_application")}
    assert expected - groups <= marked


def test_prefill_takes_named_earlier_values_that_fit_and_never_a_steps_own_earlier_answers() -> None:
    from app.forms.values import prefill
    from tests import samples

    earlier = [samples.REGISTRATION, samples.CHECK_INCOMPLETE]
    assert prefill(FORMS.schema("pbg_handover.json"), earlier) == {
        "received_by_name": "Siti Rahmawati", "received_by_nik": samples.REGISTRATION["applicant"]["nik"]}
    rows = prefill(FORMS.schema("pbg_resubmission.json"), earlier)["resubmitted_documents"]
    assert rows == [{"document_type": d} for d in samples.CHECK_INCOMPLETE["missing_documents"]]
    assert prefill(FORMS.schema("pbg_document_check.json"), earlier) == {}  # a repeated check starts empty
    bad = {**samples.REGISTRATION, "applicant": {**samples.REGISTRATION["applicant"], "nik": "12"}}
    assert "received_by_nik" not in prefill(FORMS.schema("pbg_handover.json"), [bad])  # invalid: not used
