"""Versioning and migration on real running files (SQLite and PostgreSQL).

v1 is the building permit as deployed from processes/; v2 renames the field survey
(field_survey -> site_inspection), adds a review step after the permit draft and
retitles the registration. Files are started and walked to different steps on v1;
the dry run says which can move; the movable ones move in one action and finish on
v2, the others stay on v1 and finish there.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.clock import FixedClock
from app.config import ROOT
from app.container import Container
from app.designer import services
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.engine.runtime import MigrationRefused
from app.engine.timers import fire_due_timers
from app.files.models import ApplicationFile
from app.files.services import open_file
from tests import samples

V1 = (ROOT / "processes" / "building_permit.bpmn").read_text("utf-8")

ACTOR_OF_LANE = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
                 "cashier": "kasir", "head": "kepala"}
DATA = {
    "register_application": samples.REGISTRATION,
    "receive_resubmission": samples.RESUBMISSION,
    "field_survey": samples.SURVEY,
    "site_inspection": samples.SURVEY,
    "confirm_payment": samples.PAYMENT,
    "draft_permit": samples.DRAFT,
    "review_draft": {"permit_conditions": ["Sesuai BAP"], "permitted_function": "hunian",
                     "permitted_floor_area_m2": 120, "validity": "selama_bangunan_berdiri"},
    "sign_permit": samples.SIGN_APPROVE,
    "hand_over_permit": samples.HANDOVER,
}


def building_permit_v2() -> str:
    xml = re.sub(r"\bfield_survey\b", "site_inspection", V1)  # pbg_field_survey.json and field_survey_di stay
    xml = xml.replace('name="Registrasi permohonan"', 'name="Registrasi permohonan PBG"')
    xml = xml.replace("<bpmn:flowNodeRef>draft_permit</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>draft_permit</bpmn:flowNodeRef>\n"
                      "        <bpmn:flowNodeRef>review_draft</bpmn:flowNodeRef>")
    xml = xml.replace(
        '<bpmn:sequenceFlow id="flow_draft_number" sourceRef="draft_permit" targetRef="assign_permit_number" />',
        '<bpmn:sequenceFlow id="flow_draft_number" sourceRef="draft_permit" targetRef="review_draft" />\n'
        '    <bpmn:sequenceFlow id="flow_review_number" sourceRef="review_draft" targetRef="assign_permit_number" />')
    xml = xml.replace(
        '<bpmn:scriptTask id="assign_permit_number" name="Penomoran izin">\n      <bpmn:incoming>flow_draft_number',
        '<bpmn:userTask id="review_draft" name="Telaah draf izin">\n'
        '      <bpmn:extensionElements>\n        <spiffworkflow:properties>\n'
        '          <spiffworkflow:property name="formJsonSchemaFilename" value="pbg_permit_draft.json" />\n'
        '          <spiffworkflow:property name="dueWorkingDays" value="1" />\n'
        '          <spiffworkflow:property name="separateFrom" value="draft_permit" />\n'
        '        </spiffworkflow:properties>\n      </bpmn:extensionElements>\n'
        '      <bpmn:incoming>flow_draft_number</bpmn:incoming>\n      <bpmn:outgoing>flow_review_number</bpmn:outgoing>\n'
        '    </bpmn:userTask>\n'
        '    <bpmn:scriptTask id="assign_permit_number" name="Penomoran izin">\n      <bpmn:incoming>flow_review_number')
    assert '<bpmn:userTask id="review_draft"' in xml and "<bpmn:incoming>flow_review_number" in xml
    assert ">review_draft</bpmn:flowNodeRef>" in xml and 'targetRef="review_draft"' in xml
    return xml


def start_file(c: Container) -> tuple[int, str]:
    with c.db.unit_of_work() as session:
        file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket")
        assert file.instance is not None and file.file_number is not None
        return file.instance.id, file.file_number


def open_steps(c: Container, instance_id: int) -> list[str]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(HumanTask.task_name).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open").order_by(HumanTask.id)))


def do(c: Container, instance_id: int, step: str, data: dict[str, Any] | None = None) -> None:
    """Complete the file's one open step, which must be ``step``."""
    with c.db.unit_of_work() as session:
        [task] = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")).all()
        assert task.task_name == step
        c.runtime.complete(session, task, data if data is not None else DATA[step], ACTOR_OF_LANE[task.lane])


def walk(c: Container, instance_id: int, steps: list[str]) -> None:
    for step in steps:
        do(c, instance_id, step, samples.CHECK_COMPLETE if step == "check_documents" else None)


def version_of(c: Container, instance_id: int) -> tuple[int, str]:
    with c.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance.definition.version, instance.status


@pytest.fixture
def office(deployed: Container) -> Container:
    return deployed


def test_dry_run_then_migration_moves_the_movable_files_which_finish_on_v2(office: Container, clock: FixedClock) -> None:
    c = office
    at_registration, number_a = start_file(c)
    awaiting_applicant, _ = start_file(c)
    walk(c, awaiting_applicant, ["register_application"])
    do(c, awaiting_applicant, "check_documents", samples.CHECK_INCOMPLETE)
    at_survey, _ = start_file(c)
    walk(c, at_survey, ["register_application", "check_documents"])
    past_survey, _ = start_file(c)
    walk(c, past_survey, ["register_application", "check_documents", "field_survey", "confirm_payment"])
    assert open_steps(c, past_survey) == ["draft_permit"]
    with c.db.unit_of_work() as session:
        timer_before = session.get(ProcessInstance, awaiting_applicant).next_timer_at  # type: ignore[union-attr]
    assert timer_before is not None

    # The designer deploys v2 (recorded with the tasks added, removed and changed).
    with c.db.unit_of_work() as session:
        result = services.deploy_from_designer(session, building_permit_v2().encode(), "perancang", c.clock, c.forms)
    assert result.problems == []
    assert [(o.process_id, o.version, o.created) for o in result.outcomes] == [("building_permit", 2, True)]
    with c.db.unit_of_work() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "process.deployed")).one()
        assert (entry.actor, entry.subject_type, entry.subject_id) == ("perancang", "process", "building_permit")
        assert entry.detail["version"] == 2 and entry.detail["previous_version"] == 1
        assert entry.detail["tasks"]["added"] == ["review_draft", "site_inspection"]
        assert entry.detail["tasks"]["removed"] == ["field_survey"]
        assert entry.detail["tasks"]["changed"] == {"register_application": ["title"]}

    # New files start on v2; running files stay on v1 until moved.
    newcomer, _ = start_file(c)
    assert version_of(c, newcomer) == (2, "running")
    chosen = [at_registration, awaiting_applicant, at_survey, past_survey]
    assert all(version_of(c, i) == (1, "running") for i in chosen)

    # Dry run: nothing changes, each file gets its verdict.
    with c.db.unit_of_work() as session:
        plan = services.plan_migration(session, c.runtime, "building_permit", chosen, 2)
        verdicts = {f.instance.id: check for f, check in plan.checks}
        file_numbers = {f.instance.id: f.file_number for f, _ in plan.checks}
        session.rollback()
    assert file_numbers[at_registration] == number_a
    assert verdicts[at_registration].movable and verdicts[awaiting_applicant].movable
    [current] = verdicts[at_survey].issues
    assert (current.kind, current.step) == ("current_missing", "field_survey")
    assert "does not exist in version 2" in current.message
    [completed] = verdicts[past_survey].issues
    assert (completed.kind, completed.step) == ("completed_missing", "field_survey")
    assert "no longer in the diagram" in completed.message
    assert all(version_of(c, i) == (1, "running") for i in chosen)

    # The movable ones move, in one transaction.
    with c.db.unit_of_work() as session:
        done = services.migrate_files(session, c.runtime, "building_permit", chosen, 2, "perancang", c.clock)
    assert sorted(f.instance.id for f, _ in done.movable) == sorted([at_registration, awaiting_applicant])
    assert version_of(c, at_registration) == (2, "running")
    assert version_of(c, awaiting_applicant) == (2, "running")
    assert version_of(c, at_survey) == (1, "running")
    assert version_of(c, past_survey) == (1, "running")
    with c.db.unit_of_work() as session:
        events = session.scalars(select(InstanceEvent).where(InstanceEvent.kind == "migrated")
                                 .order_by(InstanceEvent.instance_id)).all()
        assert [(e.instance_id, e.actor, e.detail["from_version"], e.detail["to_version"]) for e in events] == [
            (at_registration, "perancang", 1, 2), (awaiting_applicant, "perancang", 1, 2)]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "file.migrated")
                                .order_by(AuditEntry.subject_id)).all()
        assert sorted(int(a.subject_id) for a in audit) == sorted([at_registration, awaiting_applicant])
        assert {a.detail["file_number"] for a in audit} >= {number_a}
        # The open row of a moved file shows its step as v2 names it; the waiting timer keeps its time.
        [row] = session.scalars(select(HumanTask).where(HumanTask.instance_id == at_registration,
                                                        HumanTask.status == "open")).all()
        assert row.title == "Registrasi permohonan PBG"
        assert session.get(ProcessInstance, awaiting_applicant).next_timer_at == timer_before  # type: ignore[union-attr]

    # Moved files continue on v2 to completion: the renamed survey and the new review step.
    v2_rest = ["site_inspection", "confirm_payment", "draft_permit", "review_draft", "sign_permit", "hand_over_permit"]
    walk(c, at_registration, ["register_application", "check_documents", *v2_rest])
    walk(c, awaiting_applicant, ["receive_resubmission", "check_documents", *v2_rest])
    # The others stay on v1 and finish there (no review step).
    walk(c, at_survey, ["field_survey", "confirm_payment", "draft_permit", "sign_permit", "hand_over_permit"])
    walk(c, past_survey, ["draft_permit", "sign_permit", "hand_over_permit"])
    assert version_of(c, at_registration) == (2, "completed")
    assert version_of(c, awaiting_applicant) == (2, "completed")
    assert version_of(c, at_survey) == (1, "completed")
    assert version_of(c, past_survey) == (1, "completed")
    with c.db.unit_of_work() as session:
        outcome = c.runtime.data(session.get(ProcessInstance, awaiting_applicant))  # type: ignore[arg-type]
        assert outcome["outcome"] == "granted"
        number = session.scalar(select(ApplicationFile.file_number).where(ApplicationFile.instance_id == at_survey))
        assert outcome["permit_number"].startswith("640/PBG/") and number


def test_a_moved_file_waiting_on_the_applicant_is_still_closed_by_its_timer(office: Container, clock: FixedClock) -> None:
    c = office
    waiting, _ = start_file(c)
    walk(c, waiting, ["register_application"])
    do(c, waiting, "check_documents", samples.CHECK_INCOMPLETE)
    with c.db.unit_of_work() as session:
        services.deploy_from_designer(session, building_permit_v2().encode(), "perancang", c.clock, c.forms)
    with c.db.unit_of_work() as session:
        services.migrate_files(session, c.runtime, "building_permit", [waiting], 2, "perancang", c.clock)
    clock.advance(days=c.settings.resubmission_days, seconds=1)
    assert fire_due_timers(c) == 1
    assert version_of(c, waiting) == (2, "completed")
    with c.db.unit_of_work() as session:
        assert c.runtime.data(session.get(ProcessInstance, waiting))["outcome"] == "closed_abandoned"  # type: ignore[arg-type]


def test_runtime_refuses_to_move_what_the_dry_run_refuses_and_changes_nothing(office: Container) -> None:
    c = office
    at_survey, _ = start_file(c)
    walk(c, at_survey, ["register_application", "check_documents"])
    with c.db.unit_of_work() as session:
        services.deploy_from_designer(session, building_permit_v2().encode(), "perancang", c.clock, c.forms)
    with c.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, at_survey)
        assert instance is not None
        state_before = instance.state
        v2 = services.get_version(session, "building_permit", 2)
        with pytest.raises(MigrationRefused, match="field_survey"):
            c.runtime.migrate(session, instance, v2, "perancang")
        assert instance.state == state_before and instance.definition.version == 1
        v1 = services.get_version(session, "building_permit", 1)
        assert [i.kind for i in c.runtime.check_migration(instance, v1).issues] == ["same_version"]


def test_finished_files_cannot_be_chosen(office: Container) -> None:
    c = office
    finished, _ = start_file(c)
    with c.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, finished)
        assert instance is not None
        instance.status = "cancelled"
    with c.db.unit_of_work() as session, pytest.raises(services.DesignerError):
        services.plan_migration(session, c.runtime, "building_permit", [finished], 1)
