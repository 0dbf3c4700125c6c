"""Forms in the browser: every field of every form renders, and what an officer
submits comes back as the JSON the schema validates, errors beside their fields."""
from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from app.config import ROOT
from app.forms.registry import FormRegistry
from app.forms.render import build_fields
from app.forms.schema import resolve
from app.forms.values import parse_submission
from tests.samples import SAMPLES

FORMS = FormRegistry(ROOT / "forms")


def as_browser_form(schema: dict[str, Any], data: Any, root: dict[str, Any], path: str = "",
                    form: MultiDict | None = None, files: MultiDict | None = None) -> tuple[MultiDict, MultiDict]:
    """What a browser would post for ``data`` (attachments as uploaded files)."""
    form = form if form is not None else MultiDict()
    files = files if files is not None else MultiDict()
    schema = dict(resolve(schema, root))
    if schema.get("type") == "object" and "sha256" in schema.get("properties", {}):
        for key, value in data.items():
            if key not in ("reference", "sha256"):
                form.add(f"{path}/{key}", value)
        files.add(path, FileStorage(io.BytesIO(data["reference"].encode()), filename=data["reference"] + ".pdf"))
    elif schema.get("type") == "object":
        for key, value in data.items():
            as_browser_form(schema["properties"][key], value, root, f"{path}/{key}".lstrip("/"), form, files)
    elif schema.get("type") == "array":
        items = resolve(schema["items"], root)
        if items.get("type") == "object":
            for i, value in enumerate(data):
                as_browser_form(items, value, root, f"{path}/{i}", form, files)
        elif "enum" in items:
            for value in data:
                form.add(path, value)
        else:
            form.add(path, "\n".join(str(v) for v in data))
    elif schema.get("type") == "boolean":
        if data:
            form.add(path, "on")
    else:
        form.add(path, str(data))
    return form, files


def store(upload: FileStorage, path: str) -> dict[str, Any]:
    content = upload.stream.read()
    return {"reference": upload.filename.removesuffix(".pdf"), "sha256": hashlib.sha256(content).hexdigest()}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_submitted_form_round_trips_to_valid_json(name: str) -> None:
    schema = FORMS.schema(name)
    sample = SAMPLES[name]
    form, files = as_browser_form(schema, sample, schema)
    parsed = parse_submission(schema, form, files, store)
    assert FORMS.validate(name, parsed) == []
    expected = {k: v for k, v in sample.items() if v not in ([], "")}
    for attachment_list in ("attachments", "resubmitted_documents", "survey_photos"):
        for item in expected.get(attachment_list, []):
            item["sha256"] = hashlib.sha256(item["reference"].encode()).hexdigest()
    assert parsed == expected


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_field_renders_with_its_title(name: str) -> None:
    schema = FORMS.schema(name)
    fields = build_fields(schema, SAMPLES[name])

    def walk(fs: list) -> list:
        out = []
        for f in fs:
            out.append(f)
            out.extend(walk(f.children))
            for row in f.rows:
                out.extend(walk(row))
        return out

    rendered = walk(fields)
    assert {f.path for f in fields} == set(schema["properties"])
    assert all(f.title for f in rendered)
    assert not [f for f in rendered if f.kind == "text" and f.options]


def test_typos_and_blanks_become_errors_beside_their_fields() -> None:
    schema = FORMS.schema("pbg_field_survey.json")
    form = MultiDict({"survey_date": "2026-01-14", "survey_team": "Ir. Bambang\n\n", "bap_number": "BAP/1",
                      "measured_floor_area_m2": "seratus", "measured_floors": "2", "building_function": "hunian",
                      "building_class": "", "location_zone": "perdesaan", "recommendation": "layak"})
    parsed = parse_submission(schema, form)
    assert parsed["measured_floor_area_m2"] == "seratus"
    assert parsed["survey_team"] == ["Ir. Bambang"]
    assert "building_class" not in parsed
    errors = {e.field for e in FORMS.validate("pbg_field_survey.json", parsed)}
    assert errors == {"measured_floor_area_m2", "building_class"}
    fields = {f.path: f for f in build_fields(schema, parsed, {"building_class": "wajib diisi"})}
    assert fields["building_class"].error == "wajib diisi"
    assert fields["measured_floor_area_m2"].value == "seratus"


def test_decimal_comma_is_accepted_for_areas() -> None:
    schema = FORMS.schema("pbg_field_survey.json")
    parsed = parse_submission(schema, MultiDict({"measured_floor_area_m2": "87,5"}))
    assert parsed["measured_floor_area_m2"] == 87.5


def test_a_choice_between_a_fixed_word_and_a_number_converts_either() -> None:
    schema = FORMS.schema("pbg_permit_draft.json")
    assert parse_submission(schema, MultiDict({"validity": "5"}))["validity"] == 5
    assert parse_submission(schema, MultiDict({"validity": "selama_bangunan_berdiri"}))["validity"] == (
        "selama_bangunan_berdiri")
