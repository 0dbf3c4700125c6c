"""The visual form builder, as a designer who is not a programmer uses it: fields are added,
ordered and edited by clicking, the JSON Schema is written live (choices as oneOf of const and
title), typing JSON rebuilds the builder, and the saved form is what officers get."""
from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, sign_in


def _schema(page: Any) -> dict[str, Any]:
    return json.loads(page.locator("textarea#form-schema").input_value())


def _add(page: Any, kind: str, label: str, within: str = "/") -> Any:
    page.select_option(f"select[data-add-type='{within}']", kind)
    page.click(f"button[data-add='{within}']")
    title = page.locator("li.builder-field [data-edit=title]:focus")
    title.fill(label)
    title.press("Tab")  # the key follows the label of a new field
    return page.locator("li.builder-field", has=page.locator(f"strong.builder-name:text-is('{label}')"))


def test_a_designer_builds_a_form_by_clicking_saves_it_and_the_preview_renders_it(page: Any, live_server: str,
                                                                                 live_app: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server, "perancang")
    page.goto(f"{live_server}/designer/forms/new")
    page.fill("input[name=name]", "pbg_contoh_pembuat.json")
    page.wait_for_selector("[data-testid=form-builder] li.builder-field[data-path=catatan]")
    page.click("li.builder-field[data-path=catatan] [data-action=remove]")
    assert _schema(page)["properties"] == {}
    page.fill("#builder-form-title", "Data bangunan")

    # A short text field.
    owner = _add(page, "text", "Nama pemilik")
    assert owner.get_attribute("data-path") == "nama_pemilik"

    # A required choice with three options.
    kind = _add(page, "choice", "Jenis bangunan")
    kind.locator("[data-edit=required]").check()
    kind.locator("[data-edit=choice-title]").nth(0).fill("Rumah tinggal")
    kind.locator("[data-edit=choice-title]").nth(0).press("Tab")
    for n, label in ((1, "Ruko"), (2, "Gudang")):
        kind.locator("[data-action=add-choice]").click()
        option = kind.locator("[data-edit=choice-title]").nth(n)
        option.fill(label)
        option.press("Tab")

    # A number with its smallest and largest value.
    floors = _add(page, "number", "Jumlah lantai")
    floors.locator("[data-edit=integer]").check()
    floors.locator("[data-edit=minimum]").fill("1")
    floors.locator("[data-edit=maximum]").fill("8")
    # ... moved up above the choice.
    floors.locator("[data-action=up]").click()

    schema = _schema(page)
    assert schema["title"] == "Data bangunan"
    assert list(schema["properties"]) == ["nama_pemilik", "jumlah_lantai", "jenis_bangunan"]
    assert schema["required"] == ["jenis_bangunan"]
    assert schema["properties"]["jenis_bangunan"]["oneOf"] == [
        {"const": "rumah_tinggal", "title": "Rumah tinggal"}, {"const": "ruko", "title": "Ruko"},
        {"const": "gudang", "title": "Gudang"}]
    floors_schema = schema["properties"]["jumlah_lantai"]
    assert (floors_schema["type"], floors_schema["minimum"], floors_schema["maximum"]) == ("integer", 1, 8)
    Draft202012Validator.check_schema(schema)

    # The live preview is the officers' form.
    page.wait_for_selector("#form-preview input[name=jenis_bangunan][value=gudang]")
    preview = page.locator("#form-preview")
    assert [preview.locator("input[name=jenis_bangunan]").nth(i).get_attribute("value") for i in range(3)] == [
        "rumah_tinggal", "ruko", "gudang"]
    assert preview.locator("input[name=jumlah_lantai]").get_attribute("max") == "8"

    # Two-way: a change typed into the JSON shows in the builder.
    text = page.locator("textarea#form-schema").input_value().replace('"Nama pemilik"', '"Nama pemilik bangunan"')
    page.fill("textarea#form-schema", text)
    page.wait_for_selector("li.builder-field[data-path=nama_pemilik] strong.builder-name:text-is('Nama pemilik bangunan')")

    page.click("#form-editor button[type=submit]")
    page.wait_for_load_state()
    assert "Formulir pbg_contoh_pembuat.json disimpan (versi 1)." in page.locator("main").inner_text()
    page.wait_for_selector("li.builder-field[data-path=jenis_bangunan]")
    expect(page.locator("#form-preview input[name=jenis_bangunan]")).to_have_count(3)
    assert "Rumah tinggal" in page.locator("#form-preview").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "form-builder-saved.png"), full_page=True)

    # What officers get is the saved schema, and it refuses what the designer ruled out.
    saved = live_app.extensions["ptsp"].forms.schema("pbg_contoh_pembuat.json")
    validator = Draft202012Validator(saved)
    assert validator.is_valid({"nama_pemilik": "Ani", "jumlah_lantai": 2, "jenis_bangunan": "ruko"})
    assert not validator.is_valid({"jumlah_lantai": 9, "jenis_bangunan": "ruko"})
    assert not validator.is_valid({"jumlah_lantai": 2})
    assert not validator.is_valid({"jumlah_lantai": 2, "jenis_bangunan": "pabrik"})
    assert errors == []


def test_the_builder_waits_while_the_json_is_broken_and_keeps_what_it_cannot_edit(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    page.goto(f"{live_server}/designer/forms/pbg_permit_draft.json")
    page.wait_for_selector("li.builder-field[data-path=validity]")
    # Masa berlaku mixes a constant with a number of years: the builder leaves it to the JSON.
    assert page.locator("li.builder-field[data-path=validity]").get_attribute("data-type") == "other"
    assert page.locator("li.builder-field[data-path=permitted_function]").get_attribute("data-type") == "choice"
    before = _schema(page)["properties"]["validity"]
    page.click("li.builder-field[data-path=draft_notes] [data-action=up]")
    schema = _schema(page)
    assert list(schema["properties"])[-2:] == ["draft_notes", "validity"]
    assert schema["properties"]["validity"] == before

    page.fill("textarea#form-schema", '{"type": "object", "properties": {')
    notice = page.locator("#form-builder-notice")
    notice.wait_for()
    assert "menunggu" in notice.inner_text()
