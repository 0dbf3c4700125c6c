"""The adapter around SpiffWorkflow: parsing, workflow state (de)serialisation,
the sandboxed script engine and the clock timers read.

This module and its siblings in ``app/engine`` are the only code that imports
SpiffWorkflow.
"""
from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.clock import SYSTEM_CLOCK, Clock
from app.engine.xml_guard import HostileXml, check_xml_bytes, no_doctype_after_parse

__all__ = [
    "BpmnWorkflow", "DiagramError", "ParsedProcess", "Task", "TaskState",
    "dump_state", "load_state", "parse_diagram", "using_clock",
]

# ---------------------------------------------------------------------------
# Time. SpiffWorkflow's timers call ``datetime.now(timezone.utc)`` themselves;
# route that through the clock of the unit of work, so injected clocks rule
# timers too.
_current_clock: contextvars.ContextVar[Clock] = contextvars.ContextVar("engine_clock", default=SYSTEM_CLOCK)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        current = _current_clock.get().now()
        return current.astimezone(tz) if tz is not None else current.astimezone(UTC).replace(tzinfo=None)


spiff_timer.datetime = _ClockDatetime


@contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


# ---------------------------------------------------------------------------
# Parsing
class DiagramError(Exception):
    """A diagram that cannot be deployed; the message names file, element and reason."""

    def __init__(self, source_name: str, reason: str, element: str = "", element_id: str = "") -> None:
        self.source_name = source_name
        self.element = element
        self.element_id = element_id  # the BPMN id of the failing element, when known
        self.reason = reason
        where = f" (element {element})" if element else ""
        super().__init__(f"{source_name}{where}: {reason}")


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    # {task_name: {"title", "lane", "form", "due_working_days"}}
    user_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def parse_diagram(content: bytes, source_name: str, max_bytes: int = 2 * 1024 * 1024) -> list[ParsedProcess]:
    """Parse one .bpmn document into its executable processes.

    Raises :class:`DiagramError` naming the file, the element and the reason.
    Hostile XML (DTDs, entities, oversized documents) is refused before parsing.
    """
    if len(content) > max_bytes:
        raise DiagramError(source_name, f"file is {len(content)} bytes; the limit is {max_bytes}")
    try:
        check_xml_bytes(content)
        root = etree.fromstring(content, parser=_SAFE_XML)
        no_doctype_after_parse(root)
    except HostileXml as exc:
        raise DiagramError(source_name, exc.detail) from exc
    except etree.XMLSyntaxError as exc:
        raise DiagramError(source_name, f"not well-formed XML: {exc}") from exc
    # The validator checks the document against the BPMN 2.0 and spiffworkflow XSDs.
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=source_name)
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise DiagramError(source_name, "no executable process (isExecutable=\"true\")")
        result = []
        for process_id in process_ids:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
            result.append(ParsedProcess(
                process_id=process_id,
                name=spec.description or process_id,
                spec=spec,
                subprocess_specs=subprocess_specs,
                user_tasks=_user_tasks(spec, subprocess_specs),
            ))
        return result
    except ValidationException as exc:
        element = " ".join(part for part in (exc.tag, exc.id and f"id={exc.id!r}", exc.name and f"name={exc.name!r}") if part)
        if exc.line_number:
            element += f" line {exc.line_number}"
        raise DiagramError(source_name, str(exc).split("\n")[0], element, exc.id or "") from exc
    except SpiffWorkflowException as exc:
        raise DiagramError(source_name, str(exc)) from exc


def _user_tasks(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for process_spec in [spec, *subprocess_specs.values()]:
        for name, task_spec in process_spec.task_specs.items():
            if not getattr(task_spec, "manual", False):
                continue
            props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            due = props.get("dueWorkingDays")
            tasks[name] = {
                "title": task_spec.bpmn_name or name,
                "lane": task_spec.lane,
                "form": props.get("formJsonSchemaFilename"),
                "ui_form": props.get("formUiSchemaFilename"),
                "due_working_days": int(due) if due not in (None, "") and str(due).isdigit() else None,
                # Every spiffworkflow:property of the task, for the domains that read their own
                # (e.g. waitingOnApplicant for the SLA clock).
                "properties": dict(props),
            }
    return tasks


# ---------------------------------------------------------------------------
# State. Instances store only their task tree and data; the spec comes from the
# deployed definition (parsed once per process and cached), so state stays small
# and loading does not rebuild the spec.
_loading_specs: contextvars.ContextVar[tuple[Any, dict[str, Any]]] = contextvars.ContextVar("loading_specs")


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow ships no types
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = _loading_specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    state: str = _SERIALIZER.serialize_json(workflow)
    return state


_FINAL = '{"final_data": '


def dump_final_data(workflow: BpmnWorkflow) -> str:
    """A finished instance's state: only the data its last step left. It never runs again, and its
    task tree (most of a state's bytes) is already told by its history and its task rows."""
    return _FINAL + json.dumps(_SERIALIZER.registry.convert(last_data(workflow)), separators=(",", ":")) + "}"


def stored_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process data as the last completed step left it, read back as a stored state gives it
    (through the serializer's converters and JSON), without serialising the whole task tree."""
    data = final_data(dump_final_data(workflow))
    assert data is not None
    return data


def last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process data as the last completed step left it."""
    last = workflow.last_task or workflow.task_tree
    return dict(last.data) if last is not None else {}


def final_data(state: str) -> dict[str, Any] | None:
    """The data of a state written by :func:`dump_final_data`; None for a whole workflow's state."""
    if not state.startswith(_FINAL):
        return None
    restored: dict[str, Any] = _SERIALIZER.registry.restore(json.loads(state)["final_data"])
    return restored


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    token = _loading_specs.set((spec, subprocess_specs))
    try:
        workflow = _SERIALIZER.deserialize_json(state)
    finally:
        _loading_specs.reset(token)
    # The script engine is not part of the state: without this line the
    # workflow would silently run diagram scripts unrestricted.
    workflow.script_engine = script_engine
    return workflow


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


_TIMER_EVENT_TYPES = frozenset({
    "TimerEventDefinition", "TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition",
})


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest due time among the workflow's waiting timers."""
    due: list[datetime] = []
    for pending in workflow.waiting_events():
        # TimeDateEventDefinition has no "Timer" in its name; it is a timer too.
        if pending.event_type not in _TIMER_EVENT_TYPES or pending.value is None:
            continue
        value = pending.value
        if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
            value = value.get("next")
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        due.append(when.astimezone(UTC))
    return min(due) if due else None


def task_by_guid(workflow: BpmnWorkflow, guid: str) -> Task | None:
    try:
        return workflow.get_task_from_id(UUID(guid))
    except (ValueError, TaskNotFoundException):
        return None

