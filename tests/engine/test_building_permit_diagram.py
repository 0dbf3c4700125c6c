"""The building permit (PBG) diagram and its forms, checked with plain SpiffWorkflow.

No application code is used here: the diagram is parsed with ``SpiffBpmnParser`` (with the
library's BPMN + spiffworkflow XSD validator), scripts run in SpiffWorkflow's default
``PythonScriptEngine`` with the two helpers the production sandbox provides
(``round_down`` and ``iso_days``), and every form payload used in the walks is validated
against its JSON Schema first.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import ScriptTask, UserTask
from SpiffWorkflow.util.task import TaskState

from tests.samples import (
    CHECK_COMPLETE,
    CHECK_INCOMPLETE,
    DRAFT,
    HANDOVER,
    PAYMENT,
    REFUSAL_HANDOVER,
    REGISTRATION,
    RESUBMISSION,
    SAMPLES,
    SIGN_APPROVE,
    SIGN_REFUSE,
    SURVEY,
    attachment,
)

ROOT = Path(__file__).resolve().parents[2]
BPMN_FILE = ROOT / "processes" / "building_permit.bpmn"
FORMS_DIR = ROOT / "forms"
PROCESS_ID = "building_permit"
FILE_NUMBER = "PBG-2026-000123"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}

ROLES = ["front_office", "verifier", "technical_team", "cashier", "head"]

# task id -> (lane, form, dueWorkingDays)
EXPECTED_USER_TASKS = {
    "register_application": ("front_office", "pbg_registration.json", 1),
    "check_documents": ("verifier", "pbg_document_check.json", 1),
    "receive_resubmission": ("front_office", "pbg_resubmission.json", 10),
    "field_survey": ("technical_team", "pbg_field_survey.json", 3),
    "confirm_payment": ("cashier", "pbg_payment.json", 1),
    "draft_permit": ("verifier", "pbg_permit_draft.json", 1),
    "sign_permit": ("head", "pbg_signature.json", 1),
    "hand_over_permit": ("front_office", "pbg_handover.json", 1),
    "hand_over_refusal": ("front_office", "pbg_refusal_handover.json", 1),
}

# Variables the scripts set: the forms must never be able to supply them.
SCRIPT_OUTPUTS = {
    "close_abandoned_file": {"outcome"},
    "compute_fee": {"fee", "fee_breakdown", "skrd_number"},
    "assign_permit_number": {"permit_number"},
    "mark_granted": {"outcome"},
    "mark_refused": {"outcome"},
}
START_VARIABLES = {"file_number", "file_serial", "resubmission_days"}
SANDBOX_HELPERS = {"round_down", "iso_days"}
# Same meaning on two mutually exclusive branches (who received the outcome, and when).
INTENTIONALLY_SHARED_FIELDS = {"received_by_name", "received_on"}


# --------------------------------------------------------------------------- helpers

def round_down(x):
    return math.floor(x)


def iso_days(n):
    return f"P{int(n)}D"


def make_engine() -> PythonScriptEngine:
    return PythonScriptEngine(
        environment=TaskDataEnvironment({"iso_days": iso_days, "round_down": round_down})
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_form(name: str) -> dict:
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        load_form(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture(scope="module")
def parser() -> SpiffBpmnParser:
    p = SpiffBpmnParser(validator=VALIDATOR)  # XSD-validates BPMN 2.0 + spiffworkflow extensions
    p.add_bpmn_file(str(BPMN_FILE))
    return p


@pytest.fixture(scope="module")
def spec(parser):
    return parser.get_spec(PROCESS_ID)


@pytest.fixture(scope="module")
def subprocess_specs(parser):
    return parser.get_subprocess_specs(PROCESS_ID)


@pytest.fixture(scope="module")
def tree():
    return etree.parse(str(BPMN_FILE))


def start(spec, subprocess_specs, resubmission_days=14, file_number=FILE_NUMBER) -> BpmnWorkflow:
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=make_engine())
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(file_number=file_number, file_serial="2026/" + file_number[-6:],
                         resubmission_days=resubmission_days)
    wf.do_engine_steps()
    return wf


def ready_names(wf) -> list[str]:
    return sorted(t.task_spec.name for t in wf.get_tasks(state=TaskState.READY, manual=True))


def complete(wf, name: str, payload: dict, trail: list | None = None):
    """Validate the payload against the task's form, then complete the task."""
    ready = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name]
    assert len(ready) == 1, f"{name} not ready; ready: {ready_names(wf)}"
    task = ready[0]
    lane, form, _ = EXPECTED_USER_TASKS[name]
    assert task.task_spec.lane == lane
    assert task.task_spec.extensions["properties"]["formJsonSchemaFilename"] == form
    form_validator(form).validate(payload)
    if trail is not None:
        trail.append((name, task.task_spec.lane))
    task.set_data(**copy.deepcopy(payload))
    task.run()
    wf.do_engine_steps()
    return task


def completed_spec_names(wf) -> set[str]:
    return {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)}


# --------------------------------------------------------------------------- sample data

def with_changes(base: dict, drop=(), **changes) -> dict:
    data = copy.deepcopy(base)
    for key in drop:
        data.pop(key, None)
    data.update(changes)
    return data


def nested(base: dict, key: str, **changes) -> dict:
    data = copy.deepcopy(base)
    data[key].update(changes)
    return data


INVALID_SAMPLES = [
    ("pbg_registration.json", nested(REGISTRATION, "applicant", nik="331401450785000")),  # 15 digits
    ("pbg_registration.json", nested(REGISTRATION, "applicant", sex="W")),
    ("pbg_registration.json", nested(REGISTRATION, "applicant", birth_date="05-07-1985")),
    ("pbg_registration.json", nested(REGISTRATION, "applicant_address", postcode="5721")),
    ("pbg_registration.json", with_changes(REGISTRATION, applicant_phone="12345")),
    ("pbg_registration.json", with_changes(REGISTRATION, applicant_email="bukan-email")),
    ("pbg_registration.json", with_changes(REGISTRATION, applicant_npwp="12345678901234")),
    ("pbg_registration.json", nested(REGISTRATION, "building_location", land_area_m2=0)),
    ("pbg_registration.json", with_changes(REGISTRATION, declared_building_function="gudang")),
    ("pbg_registration.json", with_changes(REGISTRATION, declared_floors=101)),
    ("pbg_registration.json", with_changes(REGISTRATION, declared_floor_area_m2=-5)),
    ("pbg_registration.json", with_changes(REGISTRATION, drop=["building_location"])),
    ("pbg_registration.json", with_changes(REGISTRATION, attachments=[{**attachment("ktp", "x"), "sha256": "abc"}])),
    ("pbg_registration.json", with_changes(REGISTRATION, fee=1)),  # no extra fields
    ("pbg_document_check.json", with_changes(CHECK_INCOMPLETE, missing_documents=[])),
    ("pbg_document_check.json", with_changes(CHECK_INCOMPLETE, drop=["missing_documents"])),
    ("pbg_document_check.json", with_changes(CHECK_COMPLETE, missing_documents=["ktp"])),
    ("pbg_document_check.json", with_changes(CHECK_COMPLETE, drop=["documents_complete"])),
    ("pbg_resubmission.json", with_changes(RESUBMISSION, resubmitted_documents=[])),
    ("pbg_resubmission.json", with_changes(RESUBMISSION, drop=["resubmitted_on"])),
    ("pbg_field_survey.json", with_changes(SURVEY, survey_team=[])),
    ("pbg_field_survey.json", with_changes(SURVEY, measured_floor_area_m2=0)),
    ("pbg_field_survey.json", with_changes(SURVEY, measured_floor_area_m2=1000001)),
    ("pbg_field_survey.json", with_changes(SURVEY, measured_floors=0)),
    ("pbg_field_survey.json", with_changes(SURVEY, building_class="rumit")),
    ("pbg_field_survey.json", with_changes(SURVEY, location_zone="kota")),
    ("pbg_field_survey.json", with_changes(SURVEY, recommendation="ragu")),
    ("pbg_payment.json", with_changes(PAYMENT, payment_received=False)),
    ("pbg_payment.json", with_changes(PAYMENT, payment_amount=600000)),  # officers never type amounts
    ("pbg_payment.json", with_changes(PAYMENT, payment_method="cek")),
    ("pbg_permit_draft.json", with_changes(DRAFT, validity="selamanya")),
    ("pbg_permit_draft.json", with_changes(DRAFT, validity=0)),
    ("pbg_signature.json", with_changes(SIGN_REFUSE, drop=["refusal_reason"])),
    ("pbg_signature.json", with_changes(SIGN_REFUSE, refusal_reason="tidak")),
    ("pbg_signature.json", with_changes(SIGN_APPROVE, decision="mungkin")),
    ("pbg_handover.json", with_changes(HANDOVER, drop=["power_of_attorney_reference"])),
    ("pbg_handover.json", with_changes(HANDOVER, received_by_nik="33140102038000")),
    ("pbg_refusal_handover.json", with_changes(REFUSAL_HANDOVER, drop=["received_on"])),
]


# --------------------------------------------------------------------------- structure

def test_process_is_parsed_and_schema_valid(parser, spec, tree):
    assert parser.get_process_ids() == [PROCESS_ID]
    process = tree.find("bpmn:process", NS)
    assert process.get("id") == PROCESS_ID
    assert process.get("name") == "Persetujuan Bangunan Gedung (PBG)"
    assert process.get("isExecutable") == "true"
    assert tree.getroot().nsmap["spiffworkflow"] == NS["spiffworkflow"]
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == ROLES
    assert spec.name == PROCESS_ID


def test_every_user_task_has_lane_form_and_due_days(spec):
    user_tasks = {name: ts for name, ts in spec.task_specs.items() if isinstance(ts, UserTask)}
    assert set(user_tasks) == set(EXPECTED_USER_TASKS)
    for name, ts in user_tasks.items():
        lane, form, due = EXPECTED_USER_TASKS[name]
        assert ts.lane == lane, name
        assert ts.lane in ROLES
        props = ts.extensions["properties"]
        assert props["formJsonSchemaFilename"] == form
        assert (FORMS_DIR / props["formJsonSchemaFilename"]).is_file()
        assert int(props["dueWorkingDays"]) == due
        assert ts.bpmn_name, f"{name} has no label"
    assert user_tasks["receive_resubmission"].extensions["properties"]["waitingOnApplicant"] == "true"


def test_every_flow_node_sits_in_a_lane(spec):
    for name, ts in spec.task_specs.items():
        if getattr(ts, "bpmn_id", None):
            assert ts.lane in ROLES, name


def test_forms_are_valid_draft_2020_12_and_all_used(spec):
    referenced = {
        ts.extensions["properties"]["formJsonSchemaFilename"]
        for ts in spec.task_specs.values() if isinstance(ts, UserTask)
    }
    on_disk = {p.name for p in FORMS_DIR.glob("pbg_*.json")}
    assert referenced == on_disk
    for name in sorted(on_disk):
        schema = load_form(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False, name
        assert schema["title"] and schema["description"], name
        assert schema["required"], name
        assert set(schema["required"]) <= set(schema["properties"]), name
        for field, definition in schema["properties"].items():
            assert definition.get("title"), f"{name}:{field} has no title"


def test_form_field_names_are_unique_and_cannot_overwrite_process_variables():
    owners: dict[str, list[str]] = {}
    for path in sorted(FORMS_DIR.glob("pbg_*.json")):
        for field in load_form(path.name)["properties"]:
            owners.setdefault(field, []).append(path.name)
    shared = {field for field, forms in owners.items() if len(forms) > 1}
    assert shared <= INTENTIONALLY_SHARED_FIELDS, shared
    protected = set().union(*SCRIPT_OUTPUTS.values()) | START_VARIABLES | SANDBOX_HELPERS
    assert not protected & set(owners)
    payment_fields = set(load_form("pbg_payment.json")["properties"])
    assert not {f for f in payment_fields if "amount" in f or "fee" in f or "jumlah" in f}


@pytest.mark.parametrize("form_name", sorted(SAMPLES))
def test_sample_payload_is_valid(form_name):
    form_validator(form_name).validate(SAMPLES[form_name])


@pytest.mark.parametrize("form_name,payload", INVALID_SAMPLES)
def test_invalid_payload_is_rejected(form_name, payload):
    assert not form_validator(form_name).is_valid(payload)


def test_other_valid_variants():
    assert form_validator("pbg_document_check.json").is_valid(CHECK_COMPLETE)
    assert form_validator("pbg_signature.json").is_valid(SIGN_APPROVE)
    assert form_validator("pbg_handover.json").is_valid(
        with_changes(HANDOVER, relation="pemohon", drop=["power_of_attorney_reference"]))
    assert form_validator("pbg_permit_draft.json").is_valid(with_changes(DRAFT, validity=5))
    minimal = with_changes(REGISTRATION, drop=["applicant_phone", "applicant_email", "applicant_npwp",
                                               "declared_floors", "attachments"])
    assert form_validator("pbg_registration.json").is_valid(minimal)
    assert form_validator("pbg_registration.json").is_valid(
        with_changes(REGISTRATION, applicant_phone="+62271891234", applicant_npwp="0934512345260001"))


# --------------------------------------------------------------------------- scripts

def _expressions(tree):
    process = tree.find("bpmn:process", NS)
    for node in process.iterfind(".//bpmn:scriptTask", NS):
        yield node.get("id"), "exec", node.find("bpmn:script", NS).text
    for node in process.iterfind(".//bpmn:conditionExpression", NS):
        yield node.getparent().get("id"), "eval", node.text
    for node in process.iterfind(".//bpmn:timeDuration", NS):
        yield "timer", "eval", node.text


def test_scripts_and_expressions_fit_the_sandbox(tree):
    """No imports, dunders, f-strings; attribute access only as dict .get; calls only to helpers."""
    seen = 0
    for where, mode, source in _expressions(tree):
        seen += 1
        module = ast.parse(source, mode=mode)
        for node in ast.walk(module):
            assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.JoinedStr, ast.Lambda,
                                         ast.FunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal,
                                         ast.With, ast.Try, ast.Delete)), (where, ast.dump(node))
            if isinstance(node, ast.Attribute):
                assert node.attr == "get", (where, node.attr)
            if isinstance(node, ast.Name):
                assert not node.id.startswith("_"), (where, node.id)
            if isinstance(node, ast.Call):
                func = node.func
                assert (isinstance(func, ast.Name) and func.id in SANDBOX_HELPERS) or (
                    isinstance(func, ast.Attribute) and func.attr == "get"), (where, ast.dump(func))
    assert seen == len(SCRIPT_OUTPUTS) + 3 + 1  # 5 scripts, 3 flow conditions, 1 timer


def test_scripts_set_exactly_the_documented_variables(spec):
    scripts = {name: ts for name, ts in spec.task_specs.items() if isinstance(ts, ScriptTask)}
    assert set(scripts) == set(SCRIPT_OUTPUTS)
    for name, ts in scripts.items():
        assigned = set()
        for node in ast.walk(ast.parse(ts.script)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.add(target.id)
        assert assigned == SCRIPT_OUTPUTS[name], name


def test_boundary_timer_is_interrupting_and_uses_iso_days(tree):
    boundary = tree.find(".//bpmn:boundaryEvent", NS)
    assert boundary.get("attachedToRef") == "receive_resubmission"
    assert boundary.get("cancelActivity") == "true"
    assert boundary.get("name") == "Berkas tidak dilengkapi"
    duration = boundary.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS)
    assert duration.text.strip() == "iso_days(resubmission_days)"


# --------------------------------------------------------------------------- diagram

def _bounds(shape):
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _inside(inner, outer):
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _on_border(point, box, tol=1.0):
    px, py = point
    x, y, w, h = box
    on_vertical = (abs(px - x) <= tol or abs(px - (x + w)) <= tol) and y - tol <= py <= y + h + tol
    on_horizontal = (abs(py - y) <= tol or abs(py - (y + h)) <= tol) and x - tol <= px <= x + w + tol
    return on_vertical or on_horizontal


def _segment_hits(p, q, box, margin=1.0):
    x, y, w, h = box
    x0, x1 = sorted((p[0], q[0]))
    y0, y1 = sorted((p[1], q[1]))
    return x0 < x + w - margin and x1 > x + margin and y0 < y + h - margin and y1 > y + margin


def test_diagram_is_complete_and_tidy(tree):
    process = tree.find("bpmn:process", NS)
    plane = tree.find(".//bpmndi:BPMNPlane", NS)
    collaboration = tree.find("bpmn:collaboration", NS)
    assert plane.get("bpmnElement") == collaboration.get("id")
    shapes = {s.get("bpmnElement"): s for s in plane.iterfind("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.iterfind("bpmndi:BPMNEdge", NS)}

    participant = collaboration.find("bpmn:participant", NS)
    assert participant.get("processRef") == PROCESS_ID
    pool = _bounds(shapes[participant.get("id")])
    assert shapes[participant.get("id")].get("isHorizontal") == "true"

    # Lanes: horizontal swimlanes stacked top to bottom, filling the pool without gaps.
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    lane_boxes = {}
    previous_bottom = pool[1]
    for lane in lanes:
        shape = shapes[lane.get("id")]
        assert shape.get("isHorizontal") == "true"
        box = _bounds(shape)
        assert box[0] == pool[0] + 30 and box[0] + box[2] == pool[0] + pool[2]
        assert box[1] == previous_bottom
        previous_bottom = box[1] + box[3]
        lane_boxes[lane.get("name")] = box
    assert previous_bottom == pool[1] + pool[3]
    lane_of = {ref.text: lane.get("name") for lane in lanes
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}

    sizes = {"userTask": (100, 80), "scriptTask": (100, 80), "startEvent": (36, 36),
             "endEvent": (36, 36), "boundaryEvent": (36, 36), "exclusiveGateway": (50, 50)}
    node_boxes, boundary_boxes = {}, {}
    for node in process:
        kind = etree.QName(node).localname
        if kind not in sizes:
            continue
        node_id = node.get("id")
        assert node.get("name"), f"{node_id} has no label"
        assert node_id in shapes, f"{node_id} not drawn"
        box = _bounds(shapes[node_id])
        assert box[2:] == sizes[kind], node_id
        assert node_id in lane_of, f"{node_id} in no lane"
        assert _inside(box, lane_boxes[lane_of[node_id]]), f"{node_id} outside its lane"
        (boundary_boxes if kind == "boundaryEvent" else node_boxes)[node_id] = box

    for (a, box_a), (b, box_b) in itertools.combinations(node_boxes.items(), 2):
        assert not _overlap(box_a, box_b), f"{a} overlaps {b}"
    for node_id, box in boundary_boxes.items():
        host = process.find(f"bpmn:boundaryEvent[@id='{node_id}']", NS).get("attachedToRef")
        centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
        assert _on_border(centre, node_boxes[host]), "boundary event not on its task's border"
        for other, other_box in node_boxes.items():
            if other != host:
                assert not _overlap(box, other_box), f"{node_id} overlaps {other}"

    all_boxes = {**node_boxes, **boundary_boxes}
    flows = process.findall("bpmn:sequenceFlow", NS)
    assert set(edges) == {f.get("id") for f in flows}
    for flow in flows:
        points = [(float(w.get("x")), float(w.get("y")))
                  for w in edges[flow.get("id")].iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        assert _on_border(points[0], all_boxes[source]), flow.get("id")
        assert _on_border(points[-1], all_boxes[target]), flow.get("id")
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow.get('id')} is not orthogonal"
            for other, box in all_boxes.items():
                if other not in (source, target):
                    assert not _segment_hits(p, q, box), f"{flow.get('id')} crosses {other}"


# --------------------------------------------------------------------------- walks

def run_to_payment(spec, subprocess_specs, survey=SURVEY, trail=None):
    wf = start(spec, subprocess_specs)
    complete(wf, "register_application", REGISTRATION, trail)
    complete(wf, "check_documents", CHECK_COMPLETE, trail)
    complete(wf, "field_survey", survey, trail)
    assert ready_names(wf) == ["confirm_payment"]
    return wf


def finish_after_payment(wf, sign=SIGN_APPROVE, trail=None):
    complete(wf, "confirm_payment", PAYMENT, trail)
    complete(wf, "draft_permit", DRAFT, trail)
    complete(wf, "sign_permit", sign, trail)


def test_happy_path_to_handover(spec, subprocess_specs):
    trail = []
    wf = run_to_payment(spec, subprocess_specs, trail=trail)
    # The cashier sees the computed fee and SKRD; nobody typed an amount.
    payment_task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
    assert payment_task.data["fee"] == 600000
    assert payment_task.data["skrd_number"] == "SKRD/PBG-2026-000123"
    finish_after_payment(wf, trail=trail)
    assert ready_names(wf) == ["hand_over_permit"]
    complete(wf, "hand_over_permit", HANDOVER, trail)

    assert wf.is_completed()
    assert trail == [
        ("register_application", "front_office"),
        ("check_documents", "verifier"),
        ("field_survey", "technical_team"),
        ("confirm_payment", "cashier"),
        ("draft_permit", "verifier"),
        ("sign_permit", "head"),
        ("hand_over_permit", "front_office"),
    ]
    data = wf.data
    assert data["outcome"] == "granted"
    assert data["fee"] == 600000 and isinstance(data["fee"], int)
    assert data["skrd_number"] == "SKRD/PBG-2026-000123"
    assert data["permit_number"] == "640/PBG/2026/000123"  # the prefix said once
    breakdown = data["fee_breakdown"]
    assert breakdown["measured_floor_area_m2"] == 120
    assert breakdown["unit_price"] == 10000
    assert breakdown["function_index"] == 0.5
    assert breakdown["class_index"] == 1.0
    assert breakdown["location_index"] == 1.0
    assert breakdown["fee"] == 600000
    done = completed_spec_names(wf)
    assert "end_permit_handed_over" in done
    assert not {"receive_resubmission", "hand_over_refusal", "end_file_closed"} & done


def test_incomplete_documents_loop(spec, subprocess_specs):
    trail = []
    wf = start(spec, subprocess_specs, resubmission_days=14)
    complete(wf, "register_application", REGISTRATION, trail)
    complete(wf, "check_documents", CHECK_INCOMPLETE, trail)
    assert ready_names(wf) == ["receive_resubmission"]
    pending = wf.waiting_events()
    assert len(pending) == 1 and pending[0].event_type == "DurationTimerEventDefinition"
    due = datetime.fromisoformat(pending[0].value)
    assert timedelta(days=13, hours=23) < due - datetime.now(UTC) <= timedelta(days=14)

    wf.refresh_timers()
    wf.do_engine_steps()
    assert ready_names(wf) == ["receive_resubmission"]  # not yet due

    complete(wf, "receive_resubmission", RESUBMISSION, trail)
    assert ready_names(wf) == ["check_documents"]
    assert wf.waiting_events() == []  # the timer went with the resubmission task
    complete(wf, "check_documents", CHECK_COMPLETE, trail)
    complete(wf, "field_survey", SURVEY, trail)
    finish_after_payment(wf, trail=trail)
    complete(wf, "hand_over_permit", HANDOVER, trail)

    assert wf.is_completed()
    assert [name for name, _ in trail[:4]] == [
        "register_application", "check_documents", "receive_resubmission", "check_documents"]
    assert wf.data["outcome"] == "granted"
    assert wf.data["documents_complete"] is True
    assert wf.data["fee"] == 600000


def test_refusal_by_the_head(spec, subprocess_specs):
    wf = run_to_payment(spec, subprocess_specs)
    finish_after_payment(wf, sign=SIGN_REFUSE)
    assert ready_names(wf) == ["hand_over_refusal"]
    complete(wf, "hand_over_refusal", REFUSAL_HANDOVER)
    assert wf.is_completed()
    assert wf.data["outcome"] == "refused"
    assert wf.data["refusal_reason"].startswith("Lokasi berada")
    done = completed_spec_names(wf)
    assert "end_application_refused" in done
    assert not {"hand_over_permit", "mark_granted", "end_permit_handed_over"} & done


def test_abandoned_file_when_timer_is_already_due(spec, subprocess_specs):
    wf = start(spec, subprocess_specs, resubmission_days=0)  # iso_days(0) == "P0D": due at once
    complete(wf, "register_application", REGISTRATION)
    complete(wf, "check_documents", CHECK_INCOMPLETE)
    wf.refresh_timers()
    wf.do_engine_steps()
    assert wf.is_completed()
    assert wf.data["outcome"] == "closed_abandoned"
    assert ready_names(wf) == []
    done = completed_spec_names(wf)
    assert {"timer_resubmission_expired", "close_abandoned_file", "end_file_closed"} <= done
    assert "receive_resubmission" not in done
    assert wf.get_tasks(spec_name="receive_resubmission", state=TaskState.CANCELLED)


def test_abandoned_file_with_patched_clock_and_persistence(spec, subprocess_specs, monkeypatch):
    """14 days to complete the file: nothing at day 13, closed at day 15 (after a save/load)."""
    offset = [timedelta(0)]

    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + offset[0]

    monkeypatch.setattr(timer_module, "datetime", ShiftedDatetime)
    wf = start(spec, subprocess_specs, resubmission_days=14)
    complete(wf, "register_application", REGISTRATION)
    complete(wf, "check_documents", CHECK_INCOMPLETE)
    assert ready_names(wf) == ["receive_resubmission"]

    offset[0] = timedelta(days=13)
    wf.refresh_timers()
    wf.do_engine_steps()
    assert ready_names(wf) == ["receive_resubmission"]

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = serializer.deserialize_json(serializer.serialize_json(wf))
    wf.script_engine = make_engine()  # the engine is not serialised

    offset[0] = timedelta(days=15)
    wf.refresh_timers()
    wf.do_engine_steps()
    assert wf.is_completed()
    assert wf.data["outcome"] == "closed_abandoned"
    assert "end_file_closed" in completed_spec_names(wf)


@pytest.mark.parametrize(
    "area,function,klass,zone,expected",
    [
        (120, "hunian", "sederhana", "pinggiran_kota", 600000),  # worked example
        (87.5, "usaha", "tidak_sederhana", "pusat_kota", 1575000),
        (120, "campuran", "khusus", "perdesaan", 1536000),  # naive floats give 1535999.99...
        (33.33, "sosial_budaya", "tidak_sederhana", "perdesaan", 119988),
        (87.555, "usaha", "tidak_sederhana", "pusat_kota", 1575990),
        (0.07, "khusus", "khusus", "pusat_kota", 2016),
        (45.675, "hunian", "tidak_sederhana", "perdesaan", 274050),
        (12.345, "sosial_budaya", "tidak_sederhana", "pusat_kota", 66663),  # 66663.0 exactly
        (10.0001, "usaha", "sederhana", "pinggiran_kota", 100001),
        (10.00005, "usaha", "tidak_sederhana", "pusat_kota", 180000),  # 180000.9 rounded down
        (250, "keagamaan", "khusus", "pusat_kota", 0),
        (1000000, "khusus", "khusus", "pusat_kota", 28800000000),
    ],
)
def test_fee_formula(spec, subprocess_specs, area, function, klass, zone, expected):
    survey = with_changes(SURVEY, measured_floor_area_m2=area, building_function=function,
                          building_class=klass, location_zone=zone)
    wf = run_to_payment(spec, subprocess_specs, survey=survey)
    data = wf.get_tasks(state=TaskState.READY, manual=True)[0].data
    assert data["fee"] == expected
    assert isinstance(data["fee"], int)
    breakdown = data["fee_breakdown"]
    assert (breakdown["building_function"], breakdown["building_class"], breakdown["location_zone"]) == (
        function, klass, zone)
    assert breakdown["measured_floor_area_m2"] == area
