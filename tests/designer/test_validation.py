"""Validation before deploy, over a corpus of diagrams saved by different tools and broken ones.

Valid: as saved by Camunda Modeler (camunda: attributes and extension elements, bpmndi),
by SpiffArena's modeler (spiffworkflow: extensions, unit tests, pre/post scripts) and by
hand (no pool, no diagram interchange). Broken: one fault each, with the element it must
be reported on. The oversized file is made by the test rather than kept in the repository.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.container import Container
from app.designer.validation import diagram_validator, validate_diagram
from app.engine.definitions import DiagramRejected, deploy_diagram, deploy_directory, latest_definition
from app.engine.models import HumanTask, ProcessDefinition

CORPUS = Path(__file__).parent / "corpus"
FORMS = {p.name for p in (ROOT / "forms").glob("*.json")}

# file -> (element id the problem is reported on, a fragment of its message)
BROKEN = {
    "missing_lane.bpmn": ("review", "tidak berada di jalur"),
    "unknown_lane.bpmn": ("review", 'Jalur "kasir_loket" bukan peran yang dikenal'),
    "missing_form.bpmn": ("review", 'Formulir "pbg_no_such_form.json" tidak ada'),
    "script_import_os.bpmn": ("leak", "import statements are not allowed"),
    "condition_dunder_class.bpmn": ("f_escape", '"__class__" is an invalid attribute name'),
    "bad_timer_literal.bpmn": ("wait", 'Timer "P3X" bukan durasi ISO 8601'),
    "unquoted_timer.bpmn": ("wait", 'harus ditulis dalam tanda kutip: "P3D"'),
    "non_executable.bpmn": ("non_executable", 'isExecutable="true"'),
    "not_well_formed.bpmn": ("", "XML tidak well-formed"),
    "entity_bomb.bpmn": ("", "DTD dan deklarasi entitas tidak diizinkan"),
    "external_entity.bpmn": ("", "DTD dan deklarasi entitas tidak diizinkan"),
    "unsupported_element.bpmn": ("complex", "complexGateway tidak didukung"),
    "link_event.bpmn": ("jump", "linkEventDefinition tidak didukung"),
}


def _validate(content: bytes, name: str = "diagram.bpmn", max_bytes: int = 2 * 1024 * 1024) -> list[dict[str, str]]:
    return [dict(p) for p in validate_diagram(content, name, known_forms=FORMS, max_bytes=max_bytes)]


def test_the_corpus_has_every_broken_file_of_the_table() -> None:
    assert {p.name for p in (CORPUS / "broken").glob("*.bpmn")} == set(BROKEN)


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "valid").glob("*.bpmn")))
def test_diagrams_saved_by_other_tools_are_valid(name: str) -> None:
    assert _validate((CORPUS / "valid" / name).read_bytes(), name) == []


def test_the_building_permit_is_valid() -> None:
    assert _validate((ROOT / "processes" / "building_permit.bpmn").read_bytes(), "building_permit.bpmn") == []


@pytest.mark.parametrize(("name", "expected"), sorted(BROKEN.items()))
def test_each_broken_diagram_is_reported_on_its_element(name: str, expected: tuple[str, str]) -> None:
    element_id, fragment = expected
    problems = _validate((CORPUS / "broken" / name).read_bytes(), name)
    assert problems, f"{name} passed validation"
    matching = [p for p in problems if p["element_id"] == element_id and fragment in p["message"]]
    assert matching, f"{name}: expected ({element_id!r}, {fragment!r}) in {problems}"
    assert set(matching[0]) == {"element_id", "element_type", "message", "where"}


def test_oversized_file_is_refused_before_parsing() -> None:
    valid = (CORPUS / "valid" / "minimal.bpmn").read_bytes()
    oversized = valid.replace(b"<definitions", b"<!-- " + b"x" * 4096 + b" -->\n<definitions", 1)
    [problem] = _validate(oversized, max_bytes=4096)
    assert problem["element_id"] == ""
    assert "batasnya 4096 bita" in problem["message"]


def test_every_problem_is_listed_not_only_the_first() -> None:
    content = (ROOT / "processes" / "building_permit.bpmn").read_bytes()
    content = content.replace(b'name="cashier"', b'name="kasir"')  # confirm_payment sits in the cashier lane
    content = content.replace(b'value="pbg_signature.json"', b'value="pbg_tanda_tangan.json"')
    content = content.replace(b'outcome = "refused"', b'import subprocess')
    content = content.replace(b'decision == "tolak"', b'decision.__class__ == "tolak"')
    content = content.replace(b"iso_days(resubmission_days)", b'"14 hari"')
    problems = {(p["element_id"], p["element_type"]) for p in _validate(content)}
    assert problems == {("confirm_payment", "userTask"), ("sign_permit", "userTask"), ("mark_refused", "scriptTask"),
                        ("flow_refused", "sequenceFlow"), ("timer_resubmission_expired", "boundaryEvent")}


def test_side_panel_properties_are_checked() -> None:
    content = (CORPUS / "valid" / "camunda_modeler.bpmn").read_bytes()
    content = content.replace(b'name="dueWorkingDays" value="2"', b'name="dueWorkingDays" value="dua"')
    content = content.replace(b'value="Activity_0d4x1bn"', b'value="Activity_unknown"')
    content = content.replace(b'name="escalationRole" value="manager"', b'name="escalationRole" value="bupati"')
    messages = [p["message"] for p in _validate(content) if p["element_id"] == "Activity_1y3t7wz"]
    assert len(messages) == 3, messages
    assert any("dueWorkingDays" in m for m in messages)
    assert any('separateFrom menyebut "Activity_unknown"' in m for m in messages)
    assert any('escalationRole "bupati"' in m for m in messages)


def test_messages_are_english_on_request(web_app) -> None:  # type: ignore[no-untyped-def]
    with web_app.test_request_context("/?lang=en"):
        [problem] = _validate((CORPUS / "broken" / "missing_form.bpmn").read_bytes())
    assert problem["message"] == 'Form "pbg_no_such_form.json" does not exist.'


# -- the same rules guard `ptsp deploy` (the engine takes the validator as a callable) -----------------
def test_deploy_diagram_refuses_what_validation_refuses_and_stores_nothing(container: Container) -> None:
    validator = diagram_validator(FORMS)
    with container.db.unit_of_work() as session, pytest.raises(DiagramRejected) as caught:
        deploy_diagram(session, (CORPUS / "broken" / "unknown_lane.bpmn").read_bytes(), "unknown_lane.bpmn", "cli",
                       container.clock, validator=validator)
    assert caught.value.element_id == "review"
    assert caught.value.problems[0]["element_id"] == "review"
    assert "kasir_loket" in str(caught.value)
    with container.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_deploy_directory_with_the_validator_skips_broken_files(container: Container, tmp_path: Path) -> None:
    for name in ("minimal.bpmn", "spiffarena.bpmn"):
        (tmp_path / name).write_bytes((CORPUS / "valid" / name).read_bytes())
    (tmp_path / "script_import_os.bpmn").write_bytes((CORPUS / "broken" / "script_import_os.bpmn").read_bytes())
    with container.db.unit_of_work() as session:
        outcomes = {o.source_name: o for o in deploy_directory(
            session, tmp_path, "cli", container.clock, validator=diagram_validator(container.forms.names))}
    assert outcomes["minimal.bpmn"].created and outcomes["spiffarena.bpmn"].created
    assert outcomes["script_import_os.bpmn"].error is not None
    assert "“Baca sistem” (jalur Loket Pelayanan): Skrip ditolak" in outcomes["script_import_os.bpmn"].error  # named, not by id


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "valid").glob("*.bpmn")))
def test_valid_diagrams_deploy_and_run_to_their_first_step(container: Container, name: str) -> None:
    with container.db.unit_of_work() as session:
        [outcome] = deploy_diagram(session, (CORPUS / "valid" / name).read_bytes(), name, "test", container.clock,
                                   validator=diagram_validator(container.forms.names))
        assert outcome.process_id is not None
        definition = latest_definition(session, outcome.process_id)
        assert definition is not None
        instance = container.runtime.start(session, definition, {"file_number": "T-1"}, "loket")
        assert instance.status == "running"
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
        assert task.lane == "front_office"
        assert task.form == "pbg_registration.json"
