"""Deploying BPMN diagrams as versioned process definitions."""
from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.engine.errors import NotFound
from app.engine.models import ProcessDefinition
from app.engine.spiff import DiagramError, ParsedProcess, parse_diagram

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeployOutcome:
    source_name: str
    process_id: str | None
    version: int | None
    created: bool
    error: str | None = None


def deploy_diagram(session: Session, content: bytes, source_name: str, actor: str, clock: Clock,
                   known_forms: set[str] | None = None) -> list[DeployOutcome]:
    """Store every executable process of one diagram as a definition version.

    An unchanged process keeps its latest version; a changed one becomes
    version N+1. Raises :class:`DiagramError` when the diagram cannot be used.
    """
    parsed = parse_diagram(content, source_name)
    try:
        xml_text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DiagramError(source_name, f"file is not UTF-8 encoded ({exc.reason} at byte {exc.start})") from exc
    if known_forms is not None:
        _check_forms(parsed, source_name, known_forms)
    digest = hashlib.sha256(content).hexdigest()
    outcomes = []
    for process in parsed:
        latest = latest_definition(session, process.process_id)
        if latest is not None and latest.content_hash == digest:
            outcomes.append(DeployOutcome(source_name, process.process_id, latest.version, created=False))
            continue
        definition = ProcessDefinition(
            process_id=process.process_id,
            name=process.name,
            version=(latest.version + 1) if latest else 1,
            content_hash=digest,
            source_name=source_name,
            bpmn_xml=xml_text,
            user_tasks=process.user_tasks,
            deployed_at=clock.now(),
            deployed_by=actor,
        )
        session.add(definition)
        session.flush()
        outcomes.append(DeployOutcome(source_name, process.process_id, definition.version, created=True))
    return outcomes


def deploy_directory(session: Session, directory: Path, actor: str, clock: Clock,
                     known_forms: set[str] | None = None) -> list[DeployOutcome]:
    """Deploy every ``*.bpmn`` in ``directory``; a broken file is reported and skipped."""
    outcomes: list[DeployOutcome] = []
    for path in sorted(directory.glob("*.bpmn")):
        try:
            with session.begin_nested():
                outcomes.extend(deploy_diagram(session, path.read_bytes(), path.name, actor, clock, known_forms))
        except DiagramError as exc:
            log.error("diagram not deployed: %s", exc)
            outcomes.append(DeployOutcome(path.name, None, None, created=False, error=str(exc)))
    return outcomes


def _check_forms(parsed: list[ParsedProcess], source_name: str, known_forms: set[str]) -> None:
    for process in parsed:
        for name, task in process.user_tasks.items():
            if not task["lane"]:
                raise DiagramError(source_name, "user task is not in a lane", f"bpmn:userTask id={name!r}")
            if task["form"] and task["form"] not in known_forms:
                raise DiagramError(source_name, f"form {task['form']!r} does not exist in forms/", f"bpmn:userTask id={name!r}")


def latest_definition(session: Session, process_id: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc()).limit(1)
    ).first()


def require_latest_definition(session: Session, process_id: str) -> ProcessDefinition:
    definition = latest_definition(session, process_id)
    if definition is None:
        raise NotFound(f"no deployed process {process_id!r}; deploy processes/ first")
    return definition


def list_definitions(session: Session) -> list[tuple[ProcessDefinition, int]]:
    """Latest version of each process with its number of versions."""
    counts: dict[str, int] = {process_id: n for process_id, n in session.execute(
        select(ProcessDefinition.process_id, func.count()).group_by(ProcessDefinition.process_id))}
    return [(require_latest_definition(session, pid), n) for pid, n in sorted(counts.items())]


class _SpecCache:
    """Parsed specs by (process id, content hash): the same text always parses the same."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, str], ParsedProcess] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, definition: ProcessDefinition) -> ParsedProcess:
        key = (definition.process_id, definition.content_hash)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        parsed = {p.process_id: p for p in parse_diagram(definition.bpmn_xml.encode("utf-8"), definition.source_name)}
        process = parsed[definition.process_id]
        with self._lock:
            self._items[key] = process
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return process


spec_cache = _SpecCache()
