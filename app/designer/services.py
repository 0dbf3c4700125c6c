"""The designer's services: process overview, drafts, deploy with audit, migration of
running files, and export back to the repository. Services flush; the caller commits."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.audit.services import record
from app.clock import Clock
from app.designer.models import ProcessDraft
from app.designer.validation import BPMN, Problem, UnusableXml, diagram_validator, safe_root, validate_diagram
from app.engine.definitions import DeployOutcome, deploy_diagram, latest_definition
from app.engine.errors import NotFound
from app.engine.models import HumanTask, ProcessDefinition, ProcessInstance, open_task
from app.engine.runtime import MigrationCheck, Runtime
from app.files.models import ApplicationFile
from app.forms.builder import _newest_versions
from app.forms.registry import FormRegistry

ACTIVE = ("running", "error")  # instances that still "run on" their version
SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.bpmn$")


class DesignerError(Exception):
    """Something the designer asked for that cannot be done; the message says why."""


# ---------------------------------------------------------------------------
# Overview
@dataclass
class VersionInfo:
    definition: ProcessDefinition
    running: int


@dataclass
class ProcessSummary:
    process_id: str
    name: str
    versions: list[VersionInfo]  # newest first
    drafts: int = 0

    @property
    def latest(self) -> ProcessDefinition:
        return self.versions[0].definition


def process_overview(session: Session) -> list[ProcessSummary]:
    """Every deployed process with each version, its deployer and time, and its running files."""
    running = dict(session.execute(
        select(ProcessInstance.definition_id, func.count()).where(ProcessInstance.status.in_(ACTIVE))
        .group_by(ProcessInstance.definition_id)).all())
    drafts = dict(session.execute(
        select(ProcessDraft.process_id, func.count()).group_by(ProcessDraft.process_id)).all())
    summaries: dict[str, ProcessSummary] = {}
    for definition in session.scalars(select(ProcessDefinition).order_by(
            ProcessDefinition.process_id, ProcessDefinition.version.desc())):
        summary = summaries.get(definition.process_id)
        if summary is None:
            summary = summaries[definition.process_id] = ProcessSummary(
                definition.process_id, definition.name, [], drafts.get(definition.process_id, 0))
        summary.versions.append(VersionInfo(definition, running.get(definition.id, 0)))
    for process_id, count in drafts.items():  # drafts of processes never deployed
        if process_id not in summaries:
            summaries[process_id] = ProcessSummary(process_id, process_id, [], count)
    return sorted(summaries.values(), key=lambda s: s.process_id)


def get_definition(session: Session, definition_id: int) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"no definition {definition_id}")
    return definition


def get_version(session: Session, process_id: str, version: int) -> ProcessDefinition:
    definition = session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == version)).first()
    if definition is None:
        raise NotFound(f"process {process_id!r} has no version {version}")
    return definition


# ---------------------------------------------------------------------------
# Drafts
def _diagram_root(xml: bytes, max_bytes: int) -> etree._Element:
    """The parsed root of a diagram that is safe to store (size, no DTD, well-formed BPMN)."""
    try:
        return safe_root(xml, max_bytes)
    except UnusableXml as exc:
        raise DesignerError(str(exc)) from exc


def process_ids_of(root: etree._Element) -> list[str]:
    """Ids of the diagram's processes, executable ones first."""
    processes = root.findall(f"{{{BPMN}}}process")
    ordered = [p for p in processes if p.get("isExecutable", "true") == "true"] + \
        [p for p in processes if p.get("isExecutable", "true") != "true"]
    return [p.get("id") for p in ordered if p.get("id")]


def save_draft(session: Session, xml: bytes, actor: str, clock: Clock, *, base_version: int | None = None,
               max_bytes: int = 2 * 1024 * 1024) -> ProcessDraft:
    """Keep the modeler's diagram as a new draft row (it need not be valid, only safe XML)."""
    root = _diagram_root(xml, max_bytes)
    ids = process_ids_of(root)
    if not ids:
        raise DesignerError("the diagram has no process")
    draft = ProcessDraft(process_id=ids[0][:200], base_version=base_version, xml=xml.decode("utf-8"),
                         saved_by=actor, saved_at=clock.now())
    session.add(draft)
    session.flush()
    return draft


def drafts_of(session: Session, process_id: str, limit: int = 20) -> list[ProcessDraft]:
    return list(session.scalars(select(ProcessDraft).where(ProcessDraft.process_id == process_id)
                                .order_by(ProcessDraft.saved_at.desc(), ProcessDraft.id.desc()).limit(limit)))


def get_draft(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"no draft {draft_id}")
    return draft


# ---------------------------------------------------------------------------
# Deploy
@dataclass
class DeployResult:
    problems: list[Problem] = field(default_factory=list)
    outcomes: list[DeployOutcome] = field(default_factory=list)


def task_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """User tasks added, removed and changed (with the facts that changed) between two versions."""
    before, after = before or {}, after or {}
    changed: dict[str, list[str]] = {}
    for name in sorted(before.keys() & after.keys()):
        old, new = before[name] or {}, after[name] or {}
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if keys:
            changed[name] = keys
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    named = {**{k: before[k] for k in removed}, **{k: after[k] for k in [*added, *changed]}}
    # Each task as people know it (name, lane, form), so the log does not speak in generated ids.
    described = {k: {"title": (v or {}).get("title") or k, "lane": (v or {}).get("lane"), "form": (v or {}).get("form")}
                 for k, v in named.items()}
    return {"added": added, "removed": removed, "changed": changed, "described": described}


def deploy_from_designer(session: Session, xml: bytes, actor: str, clock: Clock, forms: FormRegistry,
                         max_bytes: int = 2 * 1024 * 1024, source_name: str | None = None) -> DeployResult:
    """Validate and deploy a diagram from the modeler: each changed process becomes version N+1,
    recorded in the audit log with the user tasks added, removed and changed.

    Problems come back in ``DeployResult.problems`` (nothing is stored then). The file keeps
    the name its process was deployed from (``ptsp export-definitions`` writes it back there).
    """
    problems = validate_diagram(xml, source_name or "diagram.bpmn", known_forms=forms.names(), max_bytes=max_bytes,
                                broken_forms=forms.broken())
    if problems:
        return DeployResult(problems=problems)
    ids = process_ids_of(safe_root(xml, max_bytes))
    name = source_name
    if name is None and ids:
        latest = latest_definition(session, ids[0])
        name = latest.source_name if latest is not None else f"{ids[0]}.bpmn"
    if not name or not SOURCE_NAME.match(name):
        name = f"{ids[0] if ids else 'diagram'}.bpmn"
        name = name if SOURCE_NAME.match(name) else "diagram.bpmn"
    previous = {pid: latest_definition(session, pid) for pid in ids}
    # Validated above; the engine validates again inside, so the rule is one place for CLI and browser.
    outcomes = deploy_diagram(session, xml, name, actor, clock, validator=diagram_validator(forms.names, max_bytes, forms.broken),
                              redeploy_older=True)
    for outcome in outcomes:
        if not outcome.created or outcome.process_id is None:
            continue
        before = previous.get(outcome.process_id)
        after = latest_definition(session, outcome.process_id)
        assert after is not None
        record(session, actor, "process.deployed", ("process", outcome.process_id), {
            "version": outcome.version, "previous_version": before.version if before else None,
            "definition_id": after.id, "source_name": name,
            "tasks": task_changes(before.user_tasks if before else {}, after.user_tasks)}, clock=clock)
    return DeployResult(outcomes=outcomes)


# ---------------------------------------------------------------------------
# Running files and their migration
@dataclass
class RunningFile:
    instance: ProcessInstance
    file_number: str | None
    open_steps: list[str]


def running_files(session: Session, process_id: str) -> list[RunningFile]:
    """Running (and stopped-in-error) instances of a process, oldest first, with their open steps."""
    rows = session.execute(
        select(ProcessInstance, ApplicationFile.file_number)
        .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
        .outerjoin(ApplicationFile, ApplicationFile.instance_id == ProcessInstance.id)
        .where(ProcessDefinition.process_id == process_id, ProcessInstance.status.in_(ACTIVE))
        .order_by(ProcessInstance.id)).all()
    steps: dict[int, list[str]] = {}
    ids = [instance.id for instance, _ in rows]
    if ids:
        for instance_id, title in session.execute(
                select(HumanTask.instance_id, HumanTask.title).where(
                    HumanTask.instance_id.in_(ids), open_task()).order_by(HumanTask.id)):
            steps.setdefault(instance_id, []).append(title)
    return [RunningFile(instance, number, steps.get(instance.id, [])) for instance, number in rows]


@dataclass
class MigrationPlan:
    target: ProcessDefinition
    checks: list[tuple[RunningFile, MigrationCheck]]

    @property
    def movable(self) -> list[tuple[RunningFile, MigrationCheck]]:
        return [(f, c) for f, c in self.checks if c.movable]

    @property
    def staying(self) -> list[tuple[RunningFile, MigrationCheck]]:
        return [(f, c) for f, c in self.checks if not c.movable]


def _chosen(session: Session, process_id: str, instance_ids: Iterable[int], lock: bool) -> list[RunningFile]:
    wanted = set(instance_ids)
    if not wanted:
        raise DesignerError("choose at least one running file")
    if lock:  # the rows are locked in id order, as every other writer of instances does
        session.execute(select(ProcessInstance.id).where(ProcessInstance.id.in_(wanted))
                        .order_by(ProcessInstance.id).with_for_update()).all()
    files = [f for f in running_files(session, process_id) if f.instance.id in wanted]
    if len(files) != len(wanted):
        raise DesignerError("some chosen files are not running files of this process")
    return files


def plan_migration(session: Session, runtime: Runtime, process_id: str, instance_ids: Iterable[int],
                   target_version: int) -> MigrationPlan:
    """Dry run: which chosen files can move to ``target_version``, and why the others cannot."""
    target = get_version(session, process_id, target_version)
    files = _chosen(session, process_id, instance_ids, lock=False)
    return MigrationPlan(target, [(f, runtime.check_migration(f.instance, target)) for f in files])


def migrate_files(session: Session, runtime: Runtime, process_id: str, instance_ids: Iterable[int],
                  target_version: int, actor: str, clock: Clock) -> MigrationPlan:
    """Move every movable chosen file to ``target_version`` in the caller's transaction (each recorded
    in the audit log and in its history); the others stay where they are. Returns the plan carried out."""
    target = get_version(session, process_id, target_version)
    files = _chosen(session, process_id, instance_ids, lock=True)
    checks = []
    for f in files:
        check = runtime.check_migration(f.instance, target)
        if check.movable:
            runtime.migrate(session, f.instance, target, actor)
            record(session, actor, "file.migrated", ("process_instance", f.instance.id), {
                "process_id": process_id, "file_number": f.file_number,
                "from_version": check.from_version, "to_version": check.to_version}, clock=clock)
        checks.append((f, check))
    return MigrationPlan(target, checks)


def migrations_of(session: Session, process_id: str, limit: int = 100) -> list[AuditEntry]:
    """The files moved between versions of ``process_id`` (as recorded by :func:`migrate_files`), newest first."""
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.action == "file.migrated",
                                 AuditEntry.detail["process_id"].as_string() == process_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


# ---------------------------------------------------------------------------
# Export back to the repository
@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    status: str  # written | unchanged | skipped
    detail: str = ""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _export(path: Path, data: bytes, detail: str) -> ExportOutcome:
    if path.is_file() and path.read_bytes() == data:
        return ExportOutcome(path, "unchanged", detail)
    write_atomically(path, data)
    return ExportOutcome(path, "written", detail)


def export_definitions(session: Session, processes_dir: Path, forms_dir: Path) -> list[ExportOutcome]:
    """Write the latest version of each process to processes/<source_name>, and the newest
    browser-saved version of each form to forms/<name>, so the repository holds what runs."""
    outcomes: list[ExportOutcome] = []
    latest: dict[str, ProcessDefinition] = {}  # by file: the most recently deployed latest version wins
    for summary in process_overview(session):
        if not summary.versions:
            continue
        definition = summary.latest
        current = latest.get(definition.source_name)
        if current is None or definition.deployed_at > current.deployed_at:
            latest[definition.source_name] = definition
    for source_name, definition in sorted(latest.items()):
        detail = f"{definition.process_id} v{definition.version}"
        if not SOURCE_NAME.match(source_name):
            outcomes.append(ExportOutcome(processes_dir / "?", "skipped", f"{detail}: unsafe file name {source_name!r}"))
            continue
        outcomes.append(_export(processes_dir / source_name, definition.bpmn_xml.encode("utf-8"), detail))
    for form in session.scalars(_newest_versions().order_by("name")):
        outcomes.append(_export(forms_dir / form.name, form.schema_text.encode("utf-8"), f"form v{form.version}"))
    return outcomes


# ---------------------------------------------------------------------------
def blank_diagram(process_id: str, name: str) -> str:
    """A new executable process: one pool, the front desk's lane, a start event."""
    from xml.sax.saxutils import quoteattr

    pid, label = quoteattr(process_id), quoteattr(name)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" \
id="definitions_{process_id}" targetNamespace="http://bpmn.io/schema/bpmn" exporter="ptsp" exporterVersion="0.1.0">
  <bpmn:collaboration id="collaboration_{process_id}">
    <bpmn:participant id="participant_{process_id}" name={label} processRef={pid} />
  </bpmn:collaboration>
  <bpmn:process id={pid} name={label} isExecutable="true">
    <bpmn:laneSet id="laneset_{process_id}">
      <bpmn:lane id="lane_{process_id}_front_office" name="front_office">
        <bpmn:flowNodeRef>start_{process_id}</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start_{process_id}" name="Permohonan diterima" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_{process_id}">
    <bpmndi:BPMNPlane id="plane_{process_id}" bpmnElement="collaboration_{process_id}">
      <bpmndi:BPMNShape id="participant_{process_id}_di" bpmnElement="participant_{process_id}" isHorizontal="true">
        <dc:Bounds x="130" y="60" width="900" height="250" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_{process_id}_front_office_di" bpmnElement="lane_{process_id}_front_office" isHorizontal="true">
        <dc:Bounds x="160" y="60" width="870" height="250" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_{process_id}_di" bpmnElement="start_{process_id}">
        <dc:Bounds x="212" y="167" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
