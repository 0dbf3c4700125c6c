"""Deploying BPMN diagrams as versioned process definitions."""
from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
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
    note: str | None = None  # why nothing was created although the content differs from the latest


# A validator returns every problem of a diagram as {"element_id", "element_type", "message"}
# (empty when it may be deployed). The engine does not know the office's lanes or forms:
# the caller passes one in (app/designer/validation.py makes the one the CLI and the
# designer use), so `ptsp deploy` refuses exactly what the browser refuses.
DiagramValidator = Callable[[bytes, str], Sequence[Mapping[str, object]]]


class DiagramRejected(DiagramError):
    """The validator found problems; ``problems`` lists all of them."""

    def __init__(self, source_name: str, problems: Sequence[Mapping[str, object]]) -> None:
        self.problems = [dict(p) for p in problems]
        shown = "; ".join(f"{p.get('where') or p.get('element_id') or 'file'}: {p.get('message', '')}"
                          for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        first_id = str(self.problems[0].get("element_id") or "") if self.problems else ""
        super().__init__(source_name, f"{len(self.problems)} problem(s): {shown}{more}", element_id=first_id)


def deploy_diagram(session: Session, content: bytes, source_name: str, actor: str, clock: Clock,
                   known_forms: set[str] | None = None, *, validator: DiagramValidator | None = None,
                   redeploy_older: bool = False) -> list[DeployOutcome]:
    """Store every executable process of one diagram as a definition version.

    An unchanged process keeps its latest version; a changed one becomes
    version N+1. Content equal to an *older* version is not deployed again unless
    ``redeploy_older`` (a designer's explicit choice): otherwise `ptsp deploy` at start-up
    would silently undo a version deployed from the designer. Raises
    :class:`DiagramError` (:class:`DiagramRejected` when ``validator`` finds problems)
    when the diagram cannot be used.
    """
    if validator is not None:
        problems = validator(content, source_name)
        if problems:
            raise DiagramRejected(source_name, problems)
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
        if latest is not None and not redeploy_older:
            older = session.scalar(select(func.max(ProcessDefinition.version)).where(
                ProcessDefinition.process_id == process.process_id, ProcessDefinition.content_hash == digest))
            if older is not None:
                note = (f"same as version {older}; version {latest.version} is newer and stays the latest "
                        f"(write it back with `ptsp export-definitions`)")
                log.warning("%s: %s not deployed again: %s", source_name, process.process_id, note)
                outcomes.append(DeployOutcome(source_name, process.process_id, latest.version, created=False,
                                              note=note))
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
                     known_forms: set[str] | None = None, *,
                     validator: DiagramValidator | None = None) -> list[DeployOutcome]:
    """Deploy every ``*.bpmn`` in ``directory``; a broken file is reported and skipped."""
    outcomes: list[DeployOutcome] = []
    for path in sorted(directory.glob("*.bpmn")):
        try:
            with session.begin_nested():
                outcomes.extend(deploy_diagram(session, path.read_bytes(), path.name, actor, clock, known_forms,
                                               validator=validator))
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
