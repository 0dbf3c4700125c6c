"""Deploying diagrams as versioned definitions."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.container import Container
from app.engine.definitions import deploy_diagram, deploy_directory, latest_definition
from app.engine.models import ProcessDefinition
from app.engine.spiff import DiagramError

FIXTURES = Path(__file__).parent / "fixtures"
WAIT = (FIXTURES / "wait_with_timer.bpmn").read_bytes()


def _deploy(c: Container, content: bytes, name: str = "wait_with_timer.bpmn") -> list:
    with c.db.unit_of_work() as session:
        return deploy_diagram(session, content, name, "perancang", c.clock)


def _versions(c: Container, process_id: str) -> list[int]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(ProcessDefinition.version)
                                    .where(ProcessDefinition.process_id == process_id)
                                    .order_by(ProcessDefinition.version)))


def test_processes_folder_deploys_once_and_is_unchanged_the_second_time(container: Container) -> None:
    with container.db.unit_of_work() as session:
        first = deploy_directory(session, ROOT / "processes", "system", container.clock, container.forms.names())
    with container.db.unit_of_work() as session:
        second = deploy_directory(session, ROOT / "processes", "system", container.clock, container.forms.names())
    procedures = sorted(p.stem for p in (ROOT / "processes").glob("*.bpmn"))  # one process per diagram
    assert [(o.process_id, o.version, o.created, o.error) for o in first] == [(p, 1, True, None) for p in procedures]
    assert [(o.process_id, o.version, o.created) for o in second] == [(p, 1, False) for p in procedures]
    assert "building_permit" in procedures
    with container.db.unit_of_work() as session:
        definition = latest_definition(session, "building_permit")
        assert definition is not None
        assert definition.user_tasks["check_documents"]["lane"] == "verifier"
        assert definition.user_tasks["check_documents"]["form"] == "pbg_document_check.json"


def test_changed_diagram_becomes_next_version(container: Container) -> None:
    _deploy(container, WAIT)
    changed = WAIT.replace(b'name="Tunggu pemohon"', b'name="Tunggu kelengkapan dari pemohon"')
    outcome = _deploy(container, changed)
    assert [(o.version, o.created) for o in outcome] == [(2, True)]
    assert _versions(container, "wait_with_timer") == [1, 2]
    with container.db.unit_of_work() as session:
        latest = latest_definition(session, "wait_with_timer")
        assert latest is not None
        assert latest.user_tasks["wait_for_applicant"]["title"] == "Tunggu kelengkapan dari pemohon"


def test_broken_file_is_reported_by_name_and_does_not_stop_the_others(container: Container, tmp_path: Path) -> None:
    (tmp_path / "a_good.bpmn").write_bytes(WAIT)
    broken = WAIT.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="wait_for_applicant" targetRef="end_done" />',
                          b'<bpmn:sequenceFlow id="f2" sourceRef="wait_for_applicant" targetRef="nowhere" />')
    (tmp_path / "b_broken.bpmn").write_bytes(broken)
    (tmp_path / "c_not_xml.bpmn").write_text("<bpmn:definitions", "utf-8")
    with container.db.unit_of_work() as session:
        outcomes = {o.source_name: o for o in deploy_directory(session, tmp_path, "system", container.clock)}
    assert outcomes["a_good.bpmn"].created and outcomes["a_good.bpmn"].error is None
    assert outcomes["b_broken.bpmn"].error is not None
    assert "b_broken.bpmn" in outcomes["b_broken.bpmn"].error
    assert "nowhere" in outcomes["b_broken.bpmn"].error
    assert "c_not_xml.bpmn: not well-formed XML" in (outcomes["c_not_xml.bpmn"].error or "")
    assert _versions(container, "wait_with_timer") == [1]


def test_diagram_without_executable_process_is_refused(container: Container) -> None:
    with pytest.raises(DiagramError, match="no executable process"):
        _deploy(container, WAIT.replace(b'isExecutable="true"', b'isExecutable="false"'))


def test_user_task_naming_a_missing_form_is_refused(container: Container) -> None:
    content = (ROOT / "processes" / "building_permit.bpmn").read_bytes().replace(
        b'value="pbg_payment.json"', b'value="pbg_no_such_form.json"')
    with container.db.unit_of_work() as session, pytest.raises(DiagramError) as caught:
        deploy_diagram(session, content, "building_permit.bpmn", "system", container.clock, container.forms.names())
    assert "pbg_no_such_form.json" in str(caught.value)
    assert "confirm_payment" in str(caught.value)


@pytest.mark.parametrize("hostile", [
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
])
def test_hostile_xml_is_refused_and_nothing_is_stored(container: Container, hostile: bytes) -> None:
    with pytest.raises(DiagramError, match="not allowed"):
        _deploy(container, hostile, "evil.bpmn")
    with container.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_oversized_diagram_is_refused(container: Container) -> None:
    padding = b"<!-- " + b"x" * (3 * 1024 * 1024) + b" -->"
    with pytest.raises(DiagramError, match="limit"):
        _deploy(container, WAIT.replace(b"<bpmn:collaboration", padding + b"<bpmn:collaboration"))
