"""The permit catalogue: each permit type's published service standard (UU 25/2009 art. 21).

One JSON file per procedure in ``processes/catalogue/<process_id>.json`` holds the six published
components — requirements, procedure (the diagram), duration in working days, fee (formula, inputs,
tariffs, exemptions and worked examples), product, complaint handling — and the file-number prefix.
It is the one place code reads durations, prefixes and fee rules from.

:func:`load_catalogue` validates every entry when the service starts: its shape, and against the
forms (each requirement has its box on the document check, and its document type at intake) and
the diagrams (the process, its registration, document check and fee script tasks exist). The fee
itself is computed only by the diagram's script tasks; :func:`run_worked_example` runs the
published worked examples through those scripts in the same sandbox, with the date helpers the
catalogue was loaded with (the container gives it ``app/sla/script_helpers.py``), so the catalogue
and the diagram cannot silently disagree (see tests/catalogue).
"""
from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from app.catalogue.schema import ENTRY_SCHEMA
from app.schema_validation import Draft202012Validator

log = logging.getLogger(__name__)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# A file number of a process the catalogue does not know (test fixtures, a diagram deployed
# before its entry) still gets a prefix.
Text = dict[str, str]


class CatalogueError(Exception):
    """The catalogue cannot be used; the message names the file and every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("permit catalogue is invalid:\n  " + "\n  ".join(problems))


class UnknownPermitType(KeyError):
    """No catalogue entry for this process id."""


@dataclass(frozen=True)
class Requirement:
    key: str  # the document type at intake and in the document check
    label: Text
    required: bool
    check_field: str  # the boolean of the document-check form


@dataclass(frozen=True)
class WorkedExample:
    title: Text
    inputs: dict[str, Any]
    expected: dict[str, Any]
    exemption: str | None = None


@dataclass(frozen=True)
class FeeRule:
    kind: str  # how its breakdown reads: pbg|weighted_index|itemised|road_area|free|sum
    formula: Text
    tariffs: list[Text]
    inputs: list[dict[str, Any]]  # {"name": dotted path, "step": task, "label": Text}
    script_tasks: list[str]
    fee_variable: str
    breakdown_variable: str | None
    exemptions: list[dict[str, Any]]  # {"key", "rule": Text}
    worked_examples: list[WorkedExample]


@dataclass(frozen=True)
class Product:
    name: Text
    validity: Text
    number_format: str | None = None
    conditions_from: str | None = None
    valid_from_from: str | None = None
    valid_until_from: str | None = None
    validity_years_from: str | None = None
    location_from: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogueEntry:
    process_id: str
    kind: str  # permit|bundle
    name: Text
    summary: Text
    file_prefix: str
    registration_task: str
    registration_form: str
    requirements: list[Requirement]
    document_check_task: str
    document_check_form: str
    steps: list[Text]
    working_days: int
    duration_basis: Text
    duration_note: Text
    fee: FeeRule
    product: Product
    complaint_channels: list[Text]
    complaint_response_days: int
    complaint_handled_by: Text
    permits: list[str] = field(default_factory=list)  # the permit types of a bundle

    @property
    def is_bundle(self) -> bool:
        return self.kind == "bundle"

    def required_documents(self) -> list[str]:
        return [r.key for r in self.requirements if r.required]


@dataclass(eq=False)  # hashed by identity: results are cached per loaded catalogue
class Catalogue:
    entries: dict[str, CatalogueEntry]
    processes_dir: Path | None = None
    # The diagram scripts' date helpers the worked examples run with (see run_worked_example).
    script_helpers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    def entry(self, process_id: str) -> CatalogueEntry:
        try:
            return self.entries[process_id]
        except KeyError:
            raise UnknownPermitType(process_id) from None

    def get(self, process_id: str) -> CatalogueEntry | None:
        return self.entries.get(process_id)

    def permits(self) -> list[CatalogueEntry]:
        return [e for e in self.entries.values() if not e.is_bundle]

    def bundles(self) -> list[CatalogueEntry]:
        return [e for e in self.entries.values() if e.is_bundle]

    def members(self, process_id: str) -> list[CatalogueEntry]:
        """The permit types a file of ``process_id`` issues: the bundle's, or the permit itself."""
        entry = self.entry(process_id)
        return [self.entry(p) for p in entry.permits] if entry.is_bundle else [entry]


# -- loading ------------------------------------------------------------------------------------
_VALIDATOR = Draft202012Validator(ENTRY_SCHEMA)


def load_catalogue(directory: Path, processes_dir: Path | None = None, forms_dir: Path | None = None, *,
                   script_helpers: Mapping[str, Callable[..., Any]] | None = None) -> Catalogue:
    """Read and validate every ``*.json`` in ``directory``.

    With ``processes_dir`` each entry is checked against its diagram, with ``forms_dir`` against
    its forms. Raises :class:`CatalogueError` listing every problem found. ``script_helpers`` are
    the date helpers its worked examples run with (:func:`run_worked_example`).
    """
    problems: list[str] = []
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path.name}: not readable JSON ({exc})")
            continue
        errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path) or "(entry)"
            problems.append(f"{path.name}: {where}: {error.message}")
        if errors:
            continue
        if data["process_id"] != path.stem:
            problems.append(f"{path.name}: process_id {data['process_id']!r} must match the file name")
            continue
        raw[data["process_id"]] = data
    entries: dict[str, CatalogueEntry] = {}
    for process_id, data in raw.items():
        if data["kind"] == "bundle":
            continue
        entries[process_id] = _entry(data, _requirements(data["requirements"]))
    for process_id, data in raw.items():
        if data["kind"] != "bundle":
            continue
        missing = [p for p in data["permits"] if p not in entries]
        if missing:
            problems.append(f"{process_id}.json: permits {missing} have no permit entry in the catalogue")
            continue
        entries[process_id] = _entry(data, _union([entries[p] for p in data["permits"]]))
    problems += _check_entries(entries)
    if forms_dir is not None:
        problems += _check_forms(entries, forms_dir)
    if processes_dir is not None:
        problems += _check_diagrams(entries, processes_dir)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(entries, processes_dir, dict(script_helpers or {}))


def _requirements(items: list[dict[str, Any]]) -> list[Requirement]:
    return [Requirement(i["key"], dict(i["label"]), bool(i["required"]), i.get("check_field") or f"doc_{i['key']}")
            for i in items]


def _union(members: list[CatalogueEntry]) -> list[Requirement]:
    """The requirements of a bundle: each document once, required when any permit requires it."""
    merged: dict[str, Requirement] = {}
    for member in members:
        for r in member.requirements:
            known = merged.get(r.key)
            if known is None:
                merged[r.key] = Requirement(r.key, r.label, r.required, f"doc_{r.key}")
            elif r.required and not known.required:
                merged[r.key] = Requirement(known.key, known.label, True, known.check_field)
    return list(merged.values())


def _entry(data: dict[str, Any], requirements: list[Requirement]) -> CatalogueEntry:
    fee, product, complaints = data["fee"], data["product"], data["complaints"]
    return CatalogueEntry(
        process_id=data["process_id"], kind=data["kind"], name=data["name"], summary=data["summary"],
        file_prefix=data["file_prefix"], registration_task=data["registration"]["task"],
        registration_form=data["registration"]["form"], requirements=requirements,
        document_check_task=data["document_check"]["task"], document_check_form=data["document_check"]["form"],
        steps=list(data["procedure"]["steps"]), working_days=int(data["duration"]["working_days"]),
        duration_basis=data["duration"]["basis"], duration_note=data["duration"]["note"],
        fee=FeeRule(
            kind=fee["kind"], formula=fee["formula"], tariffs=list(fee["tariffs"]), inputs=list(fee["inputs"]),
            script_tasks=list(fee["script_tasks"]), fee_variable=fee["variables"]["fee"],
            breakdown_variable=fee["variables"].get("breakdown"), exemptions=list(fee["exemptions"]),
            worked_examples=[WorkedExample(e["title"], e["inputs"], e["expected"], e.get("exemption"))
                             for e in fee["worked_examples"]]),
        product=Product(name=product["name"], validity=product["validity"], number_format=product.get("number_format"),
                        conditions_from=product.get("conditions_from"), valid_from_from=product.get("valid_from_from"),
                        valid_until_from=product.get("valid_until_from"),
                        validity_years_from=product.get("validity_years_from"),
                        location_from=product.get("location_from"), details=list(product.get("details", []))),
        complaint_channels=list(complaints["channels"]), complaint_response_days=int(complaints["response_working_days"]),
        complaint_handled_by=complaints["handled_by"], permits=list(data.get("permits", [])),
    )


def _check_entries(entries: dict[str, CatalogueEntry]) -> list[str]:
    problems = []
    prefixes: dict[str, str] = {}
    for e in entries.values():
        other = prefixes.setdefault(e.file_prefix, e.process_id)
        if other != e.process_id:
            problems.append(f"{e.process_id}.json: file_prefix {e.file_prefix!r} is already used by {other}")
        keys = [r.key for r in e.requirements]
        if len(keys) != len(set(keys)):
            problems.append(f"{e.process_id}.json: requirement keys must be unique")
        exemption_keys = {x["key"] for x in e.fee.exemptions}
        for example in e.fee.worked_examples:
            if example.exemption and example.exemption not in exemption_keys:
                problems.append(f"{e.process_id}.json: worked example names unknown exemption {example.exemption!r}")
        if e.kind == "permit" and not e.product.number_format:
            problems.append(f"{e.process_id}.json: product.number_format is required for a permit")
    return problems


def _check_forms(entries: dict[str, CatalogueEntry], forms_dir: Path) -> list[str]:
    problems = []
    for e in entries.values():
        check = _read_form(forms_dir, e.document_check_form)
        registration = _read_form(forms_dir, e.registration_form)
        where = f"{e.process_id}.json"
        if check is None:
            problems.append(f"{where}: document check form {e.document_check_form!r} does not exist")
        else:
            props, required = check.get("properties", {}), set(check.get("required", []))
            missing_enum = set(props.get("missing_documents", {}).get("items", {}).get("enum", []))
            for r in e.requirements:
                box = props.get(r.check_field)
                if not box or box.get("type") != "boolean":
                    problems.append(f"{where}: requirement {r.key!r} has no boolean {r.check_field!r} in {e.document_check_form}")
                elif r.required != (r.check_field in required):
                    problems.append(f"{where}: {r.check_field!r} must be {'required' if r.required else 'optional'} "
                                    f"in {e.document_check_form}, as requirement {r.key!r} is")
                if r.key not in missing_enum:
                    problems.append(f"{where}: requirement {r.key!r} is not a choice of missing_documents "
                                    f"in {e.document_check_form}")
        if registration is None:
            problems.append(f"{where}: registration form {e.registration_form!r} does not exist")
        else:
            kinds = _attachment_types(registration)
            for r in e.requirements:
                if kinds is not None and r.key not in kinds:
                    problems.append(f"{where}: requirement {r.key!r} is not a document type of {e.registration_form}")
    return problems


def _read_form(forms_dir: Path, name: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((forms_dir / name).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _attachment_types(schema: dict[str, Any]) -> set[str] | None:
    items = schema.get("properties", {}).get("attachments", {}).get("items", {})
    ref = items.get("$ref", "")
    if ref.startswith("#/$defs/"):
        items = schema.get("$defs", {}).get(ref.split("/")[-1], {})
    enum = items.get("properties", {}).get("document_type", {}).get("enum")
    return set(enum) if enum is not None else None


# -- diagrams -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiagramFacts:
    """What the catalogue checks in a process, read without running it."""

    source_name: str
    user_task_forms: dict[str, str | None]
    scripts: dict[str, str]


def diagram_facts(processes_dir: Path) -> dict[str, DiagramFacts]:
    """Executable processes of ``processes_dir/*.bpmn`` by id (cached per file version)."""
    facts: dict[str, DiagramFacts] = {}
    for path in sorted(processes_dir.glob("*.bpmn")):
        try:
            stat = path.stat()
            facts.update(_facts_of(str(path), stat.st_mtime_ns, stat.st_size))
        except (OSError, etree.XMLSyntaxError) as exc:
            log.warning("catalogue: cannot read %s: %s", path, exc)
    return facts


@functools.lru_cache(maxsize=64)
def _facts_of(path: str, _mtime: int, _size: int) -> dict[str, DiagramFacts]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(path, parser).getroot()
    ns = {"bpmn": BPMN, "spiffworkflow": SPIFF}
    result = {}
    for process in root.iterfind("bpmn:process", ns):
        if process.get("isExecutable") != "true":
            continue
        forms: dict[str, str | None] = {}
        for task in process.iter(f"{{{BPMN}}}userTask"):
            form = task.find(".//spiffworkflow:property[@name='formJsonSchemaFilename']", ns)
            forms[task.get("id", "")] = form.get("value") if form is not None else None
        scripts = {task.get("id", ""): (task.findtext("bpmn:script", default="", namespaces=ns) or "")
                   for task in process.iter(f"{{{BPMN}}}scriptTask")}
        result[process.get("id", "")] = DiagramFacts(Path(path).name, forms, scripts)
    return result


def _check_diagrams(entries: dict[str, CatalogueEntry], processes_dir: Path) -> list[str]:
    problems = []
    facts = diagram_facts(processes_dir)
    for e in entries.values():
        where = f"{e.process_id}.json"
        diagram = facts.get(e.process_id)
        if diagram is None:
            problems.append(f"{where}: no executable process {e.process_id!r} in {processes_dir}")
            continue
        for task, form in ((e.registration_task, e.registration_form), (e.document_check_task, e.document_check_form)):
            if task not in diagram.user_task_forms:
                problems.append(f"{where}: {diagram.source_name} has no user task {task!r}")
            elif diagram.user_task_forms[task] != form:
                problems.append(f"{where}: user task {task!r} uses form {diagram.user_task_forms[task]!r}, not {form!r}")
        for name in e.fee.script_tasks:
            if name not in diagram.scripts:
                problems.append(f"{where}: {diagram.source_name} has no script task {name!r}")
        for item in e.fee.inputs:
            if item["step"] not in diagram.user_task_forms:
                problems.append(f"{where}: fee input {item['name']!r} is recorded at {item['step']!r}, "
                                f"which is not a user task of {diagram.source_name}")
    return problems


# -- fees ---------------------------------------------------------------------------------------
def run_worked_example(catalogue: Catalogue, process_id: str, example: WorkedExample,
                       file_number: str = "CONTOH-2026-000001") -> dict[str, Any]:
    """The data after the entry's fee script tasks ran on the example's inputs, in the diagram
    sandbox (the same scripts as a real file, with the catalogue's ``script_helpers``)."""
    from app.engine.sandbox import make_script_engine

    if catalogue.processes_dir is None:
        raise ValueError("the catalogue was loaded without its processes directory")
    entry = catalogue.entry(process_id)
    diagram = diagram_facts(catalogue.processes_dir).get(process_id)
    if diagram is None:
        raise UnknownPermitType(process_id)
    data: dict[str, Any] = {"file_number": file_number, **copy.deepcopy(example.inputs)}
    environment = make_script_engine(catalogue.script_helpers).environment
    for name in entry.fee.script_tasks:
        environment.execute(diagram.scripts[name], data)
    return data


def worked_example_results(catalogue: Catalogue, process_id: str) -> list[tuple[WorkedExample, dict[str, Any]]]:
    """Each worked example with the data its scripts produced (cached per catalogue)."""
    return _results(catalogue, process_id)


@functools.lru_cache(maxsize=64)
def _results(catalogue: Catalogue, process_id: str) -> list[tuple[WorkedExample, dict[str, Any]]]:
    entry = catalogue.entry(process_id)
    return [(example, run_worked_example(catalogue, process_id, example)) for example in entry.fee.worked_examples]


def check_worked_examples(catalogue: Catalogue) -> list[str]:
    """Every worked example whose published result differs from what the diagram computes."""
    problems = []
    for entry in catalogue.entries.values():
        for example in entry.fee.worked_examples:
            try:
                data = run_worked_example(catalogue, entry.process_id, example)
            except Exception as exc:  # a broken script is reported with the example, not raised
                problems.append(f"{entry.process_id}: {example.title['id']}: the scripts failed: {exc}")
                continue
            for name, expected in example.expected.items():
                if data.get(name) != expected:
                    problems.append(f"{entry.process_id}: {example.title['id']}: {name} is {data.get(name)!r}, "
                                    f"the catalogue publishes {expected!r}")
    return problems


def get_path(data: Mapping[str, Any], path: str | None) -> Any:
    """``a.b.c`` of nested task data, or None."""
    if not path:
        return None
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
