"""What the engine can run, for checks made before a diagram is deployed.

The designer's validation (app/designer/validation.py) asks here instead of importing
SpiffWorkflow: which BPMN elements the parser handles, which event definitions it
understands, and whether a literal timer value parses the way SpiffWorkflow will
parse it when the timer starts.
"""
from __future__ import annotations

import re
from typing import Literal

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Every element of BPMN 2.0's flowNode substitution group (the things a process
# parser is asked to turn into task specs).
BPMN_FLOW_NODES = frozenset({
    "adHocSubProcess", "boundaryEvent", "businessRuleTask", "callActivity", "callChoreography",
    "choreographyTask", "complexGateway", "endEvent", "event", "eventBasedGateway", "exclusiveGateway",
    "implicitThrowEvent", "inclusiveGateway", "intermediateCatchEvent", "intermediateThrowEvent",
    "manualTask", "parallelGateway", "receiveTask", "scriptTask", "sendTask", "serviceTask", "startEvent",
    "subChoreography", "subProcess", "task", "transaction", "userTask",
})

BPMN_EVENT_DEFINITIONS = frozenset({
    "cancelEventDefinition", "compensateEventDefinition", "conditionalEventDefinition", "errorEventDefinition",
    "escalationEventDefinition", "linkEventDefinition", "messageEventDefinition", "signalEventDefinition",
    "terminateEventDefinition", "timerEventDefinition",
})
# What SpiffWorkflow's event parsers read (bpmn/parser/event_parsers.py); any other
# definition is silently ignored by the parser, which would turn e.g. a link event
# into a plain event, so it is refused instead.
SUPPORTED_EVENT_DEFINITIONS = frozenset({
    "cancelEventDefinition", "conditionalEventDefinition", "errorEventDefinition", "escalationEventDefinition",
    "messageEventDefinition", "signalEventDefinition", "terminateEventDefinition", "timerEventDefinition",
})

# Parsed by SpiffWorkflow but not runnable here: the sandbox refuses service calls,
# and decision tables (DMN) are not deployed with diagrams.
NOT_RUNNABLE_HERE = {
    "serviceTask": "service tasks cannot run: diagram scripts may not call outside services",
    "businessRuleTask": "business rule tasks need DMN decision tables, which this service does not deploy",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def supported_flow_nodes() -> frozenset[str]:
    """Local names of the BPMN flow nodes SpiffBpmnParser turns into task specs."""
    tags = {*SpiffBpmnParser.PARSER_CLASSES, *SpiffBpmnParser.OVERRIDE_PARSER_CLASSES}
    return frozenset(_local(tag) for tag in tags if tag.startswith("{" + BPMN_NS + "}"))


TimerKind = Literal["timeDuration", "timeDate", "timeCycle"]
_ISO_NAME = re.compile(r"^(P[0-9TYMWDHS.,]+|R[0-9]*/\S+)$", re.IGNORECASE)


def looks_like_unquoted_iso(expression: str) -> bool:
    """``P3D`` written without quotes: valid Python (a name), a NameError when the timer starts."""
    return bool(_ISO_NAME.match(expression.strip())) and expression.strip().isidentifier()


def timer_literal_error(kind: TimerKind, value: str) -> str | None:
    """Why a literal timer value would fail when the timer starts, or None when it parses.

    ``timeDuration`` takes an ISO 8601 duration (``P3D``, ``PT4H``), ``timeDate`` an ISO 8601
    date-time, ``timeCycle`` a repeating interval (``R3/PT1H``), as SpiffWorkflow reads them.
    """
    text = value.strip()
    try:
        if kind == "timeDuration":
            if not text.upper().startswith("P"):
                return "an ISO 8601 duration starts with P, e.g. P3D or PT4H"
            TimerEventDefinition.parse_iso_duration(text)
        elif kind == "timeDate":
            TimerEventDefinition.get_datetime(text)
        else:
            if not text.upper().startswith("R"):
                return "an ISO 8601 repeating interval starts with R, e.g. R3/PT1H"
            TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as exc:  # SpiffWorkflow raises bare Exception for bad values
        return str(exc) or type(exc).__name__
    return None
