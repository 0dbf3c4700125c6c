"""Paths through a deployed diagram, read from its BPMN XML: which user tasks, lanes and forms
it has, which gateway choices are decided by a form field (and by which value), and every
path from the start event to an end event.

A path is enumerated over sequence flows: each choice (a flow out of an exclusive gateway,
a boundary timer) is taken at most once and any other flow at most twice, so a loop such
as "documents returned, then resubmitted" is walked once. Parallel branches all run in
reality, so a path is reduced to its *decisions*: the choices at exclusive gateways and
timers, in order. Paths with the same decisions are one walk.
"""
from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None


@dataclass
class Node:
    id: str
    kind: str  # userTask, scriptTask, exclusiveGateway, parallelGateway, startEvent, endEvent, boundaryEvent...
    name: str
    lane: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    default: str | None = None
    attached_to: str | None = None
    script: str | None = None
    outgoing: list[str] = field(default_factory=list)
    incoming: list[str] = field(default_factory=list)

    @property
    def form(self) -> str | None:
        return self.properties.get("formJsonSchemaFilename")


@dataclass(frozen=True)
class Decision:
    """One choice on a path: the flow taken out of an exclusive gateway, or a boundary timer
    firing on its task (``at`` is the gateway or the task)."""
    at: str
    flow: str
    timer: bool = False


@dataclass
class WalkPath:
    decisions: tuple[Decision, ...]
    end_event: str
    flows: frozenset[str]

    def label(self, diagram: Diagram) -> str:
        parts = []
        for d in self.decisions:
            if d.timer:
                parts.append(f"{diagram.nodes[d.at].name}: {diagram.nodes[d.flow].name or 'timer'}")
            else:
                flow = diagram.flows[d.flow]
                parts.append(flow.name or flow.id)
        return " → ".join([*parts, diagram.nodes[self.end_event].name or self.end_event])


class Diagram:
    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        process = next(p for p in root.iter(f"{BPMN}process") if p.get("isExecutable", "true") == "true")
        self.process_id = process.get("id", "")
        self.nodes: dict[str, Node] = {}
        self.flows: dict[str, Flow] = {}
        lanes: dict[str, str] = {}
        for lane in process.iter(f"{BPMN}lane"):
            for ref in lane.findall(f"{BPMN}flowNodeRef"):
                lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id", "")
        for element in process:
            tag = element.tag.replace(BPMN, "")
            if tag == "sequenceFlow":
                cond = element.find(f"{BPMN}conditionExpression")
                self.flows[element.get("id", "")] = Flow(
                    element.get("id", ""), element.get("sourceRef", ""), element.get("targetRef", ""),
                    element.get("name", ""), (cond.text or "").strip() if cond is not None else None)
            elif tag not in ("laneSet", "documentation", "extensionElements", "textAnnotation", "association"):
                props = {p.get("name", ""): p.get("value", "") for p in element.iter(f"{SPIFF}property")}
                kind = tag
                if tag == "boundaryEvent" and element.find(f"{BPMN}timerEventDefinition") is None:
                    kind = "boundaryEvent:other"
                script = element.find(f"{BPMN}script")
                self.nodes[element.get("id", "")] = Node(element.get("id", ""), kind, element.get("name", ""),
                                                          lanes.get(element.get("id", "")), props,
                                                          element.get("default"), element.get("attachedToRef"),
                                                          (script.text or "").strip() if script is not None else None)
        for flow in self.flows.values():
            self.nodes[flow.source].outgoing.append(flow.id)
            self.nodes[flow.target].incoming.append(flow.id)

    # -- structure --------------------------------------------------------------
    @property
    def start(self) -> Node:
        return next(n for n in self.nodes.values() if n.kind == "startEvent")

    @property
    def end_events(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.kind == "endEvent"]

    def user_tasks(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "userTask"]

    def script_of(self, node_id: str) -> str | None:
        node = self.nodes.get(node_id)
        return node.script if node else None

    def timers_of(self, task_id: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "boundaryEvent" and n.attached_to == task_id]

    def deciding_tasks(self, gateway_id: str) -> list[Node]:
        """The user tasks whose completion leads into this gateway through non-user nodes."""
        found, seen, todo = [], set(), [gateway_id]
        while todo:
            node = self.nodes[todo.pop()]
            for flow_id in node.incoming:
                source = self.nodes[self.flows[flow_id].source]
                if source.id in seen:
                    continue
                seen.add(source.id)
                if source.kind == "userTask":
                    found.append(source)
                elif source.kind not in ("startEvent", "boundaryEvent"):
                    todo.append(source.id)
        return found

    # -- paths ------------------------------------------------------------------
    def paths(self, limit: int = 500) -> list[WalkPath]:
        """Every path from the start to an end event (each flow at most once), reduced to decisions."""
        found: dict[tuple[tuple[Decision, ...], str], set[str]] = {}

        def visit(node_id: str, used: tuple[str, ...], decisions: tuple[Decision, ...]) -> None:
            if len(found) >= limit:
                return
            node = self.nodes[node_id]
            if node.kind == "endEvent":
                found.setdefault((decisions, node_id), set()).update(used)
                return
            exclusive = node.kind in ("exclusiveGateway", "inclusiveGateway") and len(node.outgoing) > 1
            for flow_id in node.outgoing:
                if used.count(flow_id) >= (1 if exclusive else 2):
                    continue
                step = (Decision(node.id, flow_id),) if exclusive else ()
                visit(self.flows[flow_id].target, (*used, flow_id), (*decisions, *step))
            if node.kind == "userTask":
                for timer in self.timers_of(node.id):
                    if timer.id in used:
                        continue
                    for flow_id in timer.outgoing:
                        visit(self.flows[flow_id].target, (*used, timer.id, flow_id),
                              (*decisions, Decision(node.id, timer.id, timer=True)))

        visit(self.start.id, (), ())
        return [WalkPath(decisions, end, frozenset(flows)) for (decisions, end), flows in found.items()]

    def walks(self, schema_of: Any) -> list[WalkPath]:
        """The paths a walk can choose: decisions the forms cannot drive (a script's result, e.g.
        ``fee > 0``) are left to what the filled values produce, so paths differing only in them
        collapse into one walk."""
        walks: dict[tuple[tuple[Decision, ...], str], WalkPath] = {}
        for path in self.paths():
            chosen = tuple(d for d in path.decisions if d.timer or self.form_values(d, schema_of) is not None)
            key = (chosen, path.end_event)
            if key in walks:
                walks[key] = WalkPath(chosen, path.end_event, walks[key].flows | path.flows)
            else:
                walks[key] = WalkPath(chosen, path.end_event, path.flows)
        return list(walks.values())

    def form_values(self, decision: Decision, schema_of: Any) -> tuple[str, dict[str, Any]] | None:
        """(task id, top-level form values) that make the gateway take the decision's flow, or None
        when no user task's form decides it."""
        if decision.timer:
            return None
        gateway = self.nodes[decision.at]
        conditions = {f: parse_condition(self.flows[f].condition) for f in gateway.outgoing}
        for task in self.deciding_tasks(gateway.id):
            if not task.form:
                continue
            props = schema_of(task.form).get("properties", {})
            mine = conditions[decision.flow]
            if mine:  # a condition of its own: take its values
                if all(name in props for name in mine):
                    return task.id, dict(mine)
                continue
            if self.flows[decision.flow].condition is not None:
                continue  # a condition we cannot read
            # The default flow: make every other condition false.
            values: dict[str, Any] = {}
            for other, parsed in conditions.items():
                if other == decision.flow:
                    continue
                if not parsed or not all(name in props for name in parsed):
                    break
                name = next(iter(parsed))
                avoid = [p.get(name) for f, p in conditions.items() if p and name in p]
                alternative = other_value(props[name], avoid)
                if alternative is _NONE:
                    break
                values[name] = alternative
            else:
                if values:
                    return task.id, values
        return None


_NONE = object()


def other_value(schema: dict[str, Any], avoid: list[Any]) -> Any:
    if schema.get("type") == "boolean":
        for candidate in (True, False):
            if candidate not in avoid:
                return candidate
        return _NONE
    options = list(schema.get("enum", [])) + [o["const"] for o in schema.get("oneOf", []) if "const" in o]
    for candidate in options:
        if candidate not in avoid:
            return candidate
    return _NONE


def parse_condition(expression: str | None) -> dict[str, Any] | None:
    """``a == 1 and b == "x"`` -> {"a": 1, "b": "x"}; None for anything else."""
    if not expression:
        return None
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    out: dict[str, Any] = {}
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.Eq)
                and isinstance(part.left, ast.Name) and isinstance(part.comparators[0], ast.Constant)):
            return None
        out[part.left.id] = part.comparators[0].value
    return out
