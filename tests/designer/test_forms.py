"""Browser-saved forms: the FormRegistry serves the newest saved version over forms/<name>,
cached, and sees other processes' saves within its refresh time."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from app.config import ROOT
from app.container import Container
from app.forms.builder import DatabaseForms, FormInvalid, checked_form, list_forms, save_form
from app.forms.registry import FormNotFound, FormRegistry

PAYMENT = (ROOT / "forms" / "pbg_payment.json").read_text("utf-8")


def changed_payment(note_title: str) -> str:
    schema = json.loads(PAYMENT)
    schema["properties"]["note"] = {"title": note_title, "type": "string"}
    schema["required"] = [*schema.get("required", []), "note"]
    return json.dumps(schema, indent=2, ensure_ascii=False)


@pytest.fixture
def queries(container: Container) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "form_version" in statement:
            seen.append(statement)

    event.listen(container.db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(container.db.engine, "before_cursor_execute", count)


def test_repository_form_is_served_until_a_version_is_saved(container: Container) -> None:
    forms = container.forms
    assert "note" not in forms.schema("pbg_payment.json")["properties"]
    with container.db.unit_of_work() as session:
        save_form(session, forms, "pbg_payment.json", changed_payment("Catatan"), "perancang", container.clock)
    assert isinstance(forms.overrides, DatabaseForms)
    forms.overrides.invalidate()
    assert forms.schema("pbg_payment.json")["properties"]["note"]["title"] == "Catatan"
    errors = forms.validate("pbg_payment.json", {"payment_received": True})
    assert "note" in {e.field for e in errors}
    assert (ROOT / "forms" / "pbg_payment.json").read_text("utf-8") == PAYMENT  # the repository is untouched


def test_saved_versions_are_numbered_and_the_newest_wins(container: Container) -> None:
    forms = container.forms
    for title in ("Catatan satu", "Catatan dua"):
        with container.db.unit_of_work() as session:
            row = save_form(session, forms, "pbg_payment.json", changed_payment(title), "perancang", container.clock)
        assert isinstance(forms.overrides, DatabaseForms)
        forms.overrides.invalidate()
    assert row.version == 2
    assert forms.schema("pbg_payment.json")["properties"]["note"]["title"] == "Catatan dua"
    with container.db.unit_of_work() as session:
        [info] = [f for f in list_forms(session, forms) if f.name == "pbg_payment.json"]
    assert (info.in_repository, info.saved_version, info.saved_by) == (True, 2, "perancang")


def test_a_form_that_only_exists_in_the_database_is_known(container: Container) -> None:
    text = json.dumps({"type": "object", "properties": {"x": {"type": "string"}}})
    assert "pbg_new_check.json" not in container.forms.names()
    with container.db.unit_of_work() as session:
        save_form(session, container.forms, "pbg_new_check.json", text, "perancang", container.clock, new=True)
    assert isinstance(container.forms.overrides, DatabaseForms)
    container.forms.overrides.invalidate()
    assert "pbg_new_check.json" in container.forms.names()
    assert container.forms.schema("pbg_new_check.json")["properties"] == {"x": {"type": "string"}}


def test_saved_forms_are_read_once_per_refresh_and_parsed_once_per_version(
        container: Container, queries: list[str]) -> None:
    source = DatabaseForms(container.db, refresh_seconds=3600)
    registry = FormRegistry(container.settings.forms_dir, overrides=source)
    with container.db.unit_of_work() as session:
        save_form(session, registry, "pbg_payment.json", changed_payment("A"), "perancang", container.clock)
    queries.clear()
    for _ in range(20):
        registry.schema("pbg_payment.json")
        registry.validate("pbg_payment.json", {})
        registry.names()
    assert len(queries) == 1  # one snapshot for all of them
    first = registry.schema("pbg_payment.json")
    assert registry.schema("pbg_payment.json") is first  # parsed once, from the cache

    # Another process saved a new version: seen after the refresh time (here: at once after invalidate()).
    with container.db.unit_of_work() as session:
        save_form(session, registry, "pbg_payment.json", changed_payment("B"), "perancang", container.clock)
    assert registry.schema("pbg_payment.json")["properties"]["note"]["title"] == "A"
    source.invalidate()
    assert registry.schema("pbg_payment.json")["properties"]["note"]["title"] == "B"


def test_another_process_sees_a_save_within_its_refresh_time(container: Container) -> None:
    other = FormRegistry(container.settings.forms_dir, overrides=DatabaseForms(container.db, refresh_seconds=0))
    assert "note" not in other.schema("pbg_payment.json")["properties"]
    with container.db.unit_of_work() as session:
        save_form(session, container.forms, "pbg_payment.json", changed_payment("Dari proses lain"), "perancang",
                  container.clock)
    assert other.schema("pbg_payment.json")["properties"]["note"]["title"] == "Dari proses lain"


def test_registry_without_a_database_reads_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"type": "object", "properties": {}}), "utf-8")
    registry = FormRegistry(tmp_path)
    assert registry.names() == {"a.json"}
    with pytest.raises(FormNotFound):
        registry.schema("b.json")


def test_an_unmigrated_database_falls_back_to_the_files(tmp_path: Path) -> None:
    from app.db import Database

    db = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        registry = FormRegistry(ROOT / "forms", overrides=DatabaseForms(db))
        assert "pbg_payment.json" in registry.names()
        assert registry.schema("pbg_payment.json")["title"]
    finally:
        db.dispose()


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"type": "object", "properties": {', "JSON tidak valid pada baris 1"),
    ('["not", "an", "object"]', '"type": "object"'),
    ('{"type": "object", "properties": {"n": {"type": "number", "minimum": "nol"}}}',
     "Skema JSON tidak sah di /properties/n/minimum"),
    ('{"type": "object", "properties": {"a": {"$ref": "https://example.com/x.json"}}}', "hanya rujukan lokal #/"),
])
def test_schema_errors_are_clear(text: str, fragment: str) -> None:
    with pytest.raises(FormInvalid) as caught:
        checked_form(text)
    assert any(fragment in e for e in caught.value.errors), caught.value.errors
