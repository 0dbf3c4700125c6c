"""The parts of the generated walk: paths read from a diagram, values generated from a form's
schema, and the filler refusing (with form and field named) what a page cannot take."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import jsonschema
import pytest

from app.config import ROOT
from app.files.nik import validate_nik
from tests.browser.form_filler import Attachment, Unfillable, ValueGenerator, example_for, fill
from tests.browser.walk_plan import Diagram

FORMS = ROOT / "forms"


def schema_of(name: str) -> dict[str, Any]:
    return json.loads((FORMS / name).read_text())


def test_building_permit_paths_reach_every_end_event() -> None:
    diagram = Diagram(ROOT / "processes" / "building_permit.bpmn")
    labels = sorted(w.label(diagram) for w in diagram.walks(schema_of))
    assert labels == sorted([
        "Lengkap → Disetujui → Izin diserahkan",
        "Lengkap → Ditolak → Permohonan ditolak",
        "Belum lengkap → Lengkap → Disetujui → Izin diserahkan",
        "Belum lengkap → Lengkap → Ditolak → Permohonan ditolak",
        "Belum lengkap → Terima kelengkapan berkas: Berkas tidak dilengkapi → Berkas ditutup",
    ])
    by_flow = {d.flow: diagram.form_values(d, schema_of) for w in diagram.walks(schema_of) for d in w.decisions}
    assert by_flow["flow_documents_incomplete"] == ("check_documents", {"documents_complete": False})
    assert by_flow["flow_refused"] == ("sign_permit", {"decision": "tolak"})


def test_bundle_fee_branch_is_left_to_its_script() -> None:
    diagram = Diagram(ROOT / "processes" / "bundle_new_shop.bpmn")
    chosen = {d.flow for w in diagram.walks(schema_of) for d in w.decisions}
    assert "flow_no_fee" not in chosen and "flow_fee_due" not in chosen  # "fee > 0" is no form's field
    assert {w.end_event for w in diagram.walks(schema_of)} == set(diagram.end_events)


@pytest.mark.parametrize("pattern", ["^[0-9]{5}$", "^([0-9]{15}|[0-9]{16})$", r"^(\+62|62|0)[0-9]{8,13}$",
                                     "^[a-z][a-z0-9_]{1,49}$", "^[0-9a-fA-F]{64}$", r"^\d{2}-[A-Z]+$"])
def test_pattern_examples_match(pattern: str) -> None:
    import re

    assert re.fullmatch(pattern.strip("^$"), example_for(pattern))


@pytest.mark.parametrize("name", sorted(p.name for p in FORMS.glob("*.json")))
def test_generated_values_are_valid(name: str) -> None:
    schema = schema_of(name)
    values = ValueGenerator(schema, date(2026, 2, 2)).form()

    def stored(value: Any) -> Any:  # what the server makes of an upload
        if isinstance(value, Attachment):
            return {**stored(value.details), "reference": "r", "sha256": "a" * 64}
        if isinstance(value, dict):
            return {k: stored(v) for k, v in value.items()}
        if isinstance(value, list):
            return [stored(v) for v in value]
        return value

    jsonschema.validate(stored(values), schema, format_checker=jsonschema.FormatChecker())
    applicant = values.get("applicant")
    if isinstance(applicant, dict) and "nik" in applicant:
        assert validate_nik(applicant["nik"], applicant.get("birth_date"), applicant.get("sex"),
                            date(2026, 2, 2)) == []


def test_a_field_the_page_cannot_take_names_form_and_field(chromium: Any) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.set_content('<form class="f"><select name="validity"><option value=""></option></select>'
                     '<input name="notes"></form>')
    with pytest.raises(Unfillable, match=r"form draft\.json: field 'validity' cannot be filled: no option"):
        fill(page, "form.f", "draft.json", {"notes": "ok", "validity": "selama_bangunan_berdiri"})
    with pytest.raises(Unfillable, match=r"form draft\.json: field 'area' cannot be filled: no input"):
        fill(page, "form.f", "draft.json", {"area": 10})
    context.close()
