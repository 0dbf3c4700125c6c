"""Checks a diagram must pass before it is deployed, as a pure service.

:func:`validate_diagram` returns every problem it finds as
``{"element_id", "element_type", "message"}`` (``element_id`` is the BPMN id the
modeler marks on the canvas; empty for problems of the whole file). The same
checks guard both ways in: the designer's deploy button and ``ptsp deploy``
(:func:`diagram_validator` makes the callable ``app.engine.definitions.deploy_diagram``
takes, so the engine never imports this package).

What is checked:

* hostile or broken XML: oversized files, DTDs and entity declarations (external
  entities, entity bombs), bytes that are not UTF-8, XML that is not well-formed;
* it parses with SpiffWorkflow and against the BPMN 2.0 / spiffworkflow schemas
  (``app.engine.spiff.parse_diagram``), and has an executable process;
* elements the engine cannot run (``app.engine.capabilities``);
* every user task sits in a lane named by a known role (``app.auth.lanes.LANES``) and
  names a form that exists; manual tasks sit in a known lane too;
* the properties the side panel sets: dueWorkingDays, separateFrom, escalationRole,
  waitingOnApplicant;
* scripts (script tasks, pre/post scripts) compile in the sandbox; conditions and
  timer expressions compile as sandbox expressions; a literal timer is a valid ISO 8601
  duration, date or repeating interval.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypedDict

from lxml import etree

from app.auth.lanes import LANES
from app.engine.capabilities import (
    BPMN_EVENT_DEFINITIONS,
    BPMN_FLOW_NODES,
    NOT_RUNNABLE_HERE,
    SUPPORTED_EVENT_DEFINITIONS,
    TimerKind,
    looks_like_unquoted_iso,
    supported_flow_nodes,
    timer_literal_error,
)
from app.engine.sandbox import check_source
from app.engine.spiff import DiagramError, parse_diagram
from app.engine.xml_guard import HostileXml, check_xml_bytes, no_doctype_after_parse
from app.i18n import N_, gettext

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
ESCALATION_ROLES = ("manager",)  # besides the lanes
HUMAN_TASKS = ("userTask", "manualTask")
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                            remove_comments=True)


_TIMER_KIND_WORDS = {"timeDuration": N_("durasi"), "timeDate": N_("tanggal-waktu"), "timeCycle": N_("interval berulang")}


class Problem(TypedDict):
    element_id: str
    element_type: str
    message: str
    where: str  # the element as people know it: "Konfirmasi pembayaran" (jalur Kasir, formulir x.json)


DiagramCheck = Callable[[bytes, str], list[Problem]]


def _problem(element_id: str | None, element_type: str, message: str, where: str = "") -> Problem:
    return {"element_id": element_id or "", "element_type": element_type, "message": message,
            "where": where or element_id or ""}


def lane_title(key: str | None) -> str:
    """A lane's title in the page's language ("Kasir"), or the key the office does not know."""
    labels = LANES.get(key or "")
    return gettext(labels["id"]) if labels else (key or "")


def describe_element(root: etree._Element, element: etree._Element) -> str:
    """An element as the designer sees it: its name (else its id), its lane and its form."""
    element_id = element.get("id") or ""
    name = (element.get("name") or "").strip()
    facts = []
    lanes = root.xpath("//*[local-name()='flowNodeRef'][normalize-space(text())=$i]/..", i=element_id) \
        if element_id else []
    if lanes and lanes[0].get("name"):
        facts.append(gettext("jalur {lane}", lane=lane_title(lanes[0].get("name"))))
    form = _properties(element).get("formJsonSchemaFilename")
    if form:
        facts.append(gettext("formulir {form}", form=form))
    text = f"\u201c{name}\u201d" if name else element_id
    return f"{text} ({', '.join(facts)})" if facts else text


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


class UnusableXml(ValueError):
    """A document refused before any BPMN check: too large, hostile, not UTF-8, not well-formed, not BPMN."""


def _hostile_message(exc: HostileXml) -> str:
    if exc.reason == "not_utf8":
        return gettext("Berkas bukan teks UTF-8: {detail}", detail=exc.detail)
    if exc.reason == "encoding":
        return gettext("Diagram harus berkodekan UTF-8; pengodean lain ditolak ({detail}).", detail=exc.detail)
    return gettext("DTD dan deklarasi entitas tidak diizinkan dalam diagram (entitas eksternal dan bom entitas ditolak).")


def safe_root(content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root ``bpmn:definitions`` of a document that is safe to read, or :class:`UnusableXml`."""
    if len(content) > max_bytes:
        raise UnusableXml(gettext("Berkas berukuran {size} bita; batasnya {limit} bita.",
                                  size=len(content), limit=max_bytes))
    try:
        check_xml_bytes(content)
        root = etree.fromstring(content, parser=_SAFE_XML)
        no_doctype_after_parse(root)
    except HostileXml as exc:
        raise UnusableXml(_hostile_message(exc)) from exc
    except etree.XMLSyntaxError as exc:
        raise UnusableXml(gettext("XML tidak well-formed: {detail}", detail=str(exc))) from exc
    if root.tag != f"{{{BPMN}}}definitions":
        raise UnusableXml(gettext("Bukan dokumen BPMN 2.0: elemen akarnya {tag}, bukan bpmn:definitions.",
                                  tag=_local(root.tag) or "?"))
    return root


def validate_diagram(content: bytes, source_name: str, *, known_forms: Iterable[str],
                     lanes: Iterable[str] = tuple(LANES), max_bytes: int = DEFAULT_MAX_BYTES,
                     broken_forms: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of one .bpmn document; an empty list means it may be deployed.
    ``broken_forms`` (name -> reason) are forms that exist but fail the form check."""
    try:
        root = safe_root(content, max_bytes)
    except UnusableXml as exc:
        return [_problem("", "", str(exc))]

    checker = _Checker(root, set(known_forms), tuple(lanes), broken_forms or {})
    problems = checker.run()
    try:
        parse_diagram(content, source_name, max_bytes=max_bytes)
    except DiagramError as exc:
        flagged = {p["element_id"] for p in problems}
        already = (exc.element_id and exc.element_id in flagged) or (
            "no executable process" in exc.reason and checker.no_executable)
        if not already:
            problems.append(_problem(exc.element_id, checker.type_of(exc.element_id),
                                     gettext("Diagram ditolak pengurai BPMN: {reason}", reason=exc.reason)))
    return problems


def diagram_validator(known_forms: Callable[[], Iterable[str]] | Iterable[str],
                      max_bytes: int = DEFAULT_MAX_BYTES,
                      broken_forms: Callable[[], Mapping[str, str]] | None = None) -> DiagramCheck:
    """The validator ``deploy_diagram``/``deploy_directory`` take (forms may be a callable, read at each call;
    ``broken_forms`` gives the forms failing the form check, e.g. ``FormRegistry.broken``)."""

    def check(content: bytes, source_name: str) -> list[Problem]:
        forms = known_forms() if callable(known_forms) else known_forms
        return validate_diagram(content, source_name, known_forms=forms, max_bytes=max_bytes,
                                broken_forms=broken_forms() if broken_forms else None)

    return check


class _Checker:
    def __init__(self, root: etree._Element, forms: set[str], lanes: Sequence[str],
                 broken_forms: Mapping[str, str]) -> None:
        self.root = root
        self.forms = forms
        self.broken_forms = broken_forms
        self.lanes = lanes
        self.supported = supported_flow_nodes()
        self.problems: list[Problem] = []
        self.no_executable = False

    def type_of(self, element_id: str) -> str:
        if not element_id:
            return ""
        found = self.root.xpath("//*[@id=$i]", i=element_id)
        return _local(found[0].tag) if found else ""

    def add(self, element: etree._Element | None, message: str) -> None:
        if element is None:
            self.problems.append(_problem("", "", message))
        else:
            self.problems.append(_problem(element.get("id"), _local(element.tag), message,
                                          describe_element(self.root, element)))

    def run(self) -> list[Problem]:
        processes = self.root.findall(f"{{{BPMN}}}process")
        # SpiffWorkflow reads a missing isExecutable as true.
        executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
        if not executable:
            self.no_executable = True
            self.add(processes[0] if processes else None, gettext(
                "Tidak ada proses yang dapat dijalankan: tandai proses dengan isExecutable=\"true\"."))
        for process in executable:
            self._process(process)
        return self.problems

    # -- one process ---------------------------------------------------------
    def _process(self, process: etree._Element) -> None:
        lane_of: dict[str, str | None] = {}
        for ref in process.iter(f"{{{BPMN}}}flowNodeRef"):
            if ref.text and ref.text.strip():
                lane_of[ref.text.strip()] = ref.getparent().get("name")
        user_task_ids = {el.get("id") for el in process.iter(f"{{{BPMN}}}userTask")}
        for element in process.iter():
            if _ns(element.tag) != BPMN:
                if _ns(element.tag) == SPIFF and _local(element.tag) in ("preScript", "postScript"):
                    self._script(self._owner(element), element.text or "", required=False)
                continue
            local = _local(element.tag)
            if local in BPMN_FLOW_NODES and local not in self.supported:
                self.add(element, gettext("Elemen BPMN {tag} tidak didukung oleh mesin proses.", tag=local))
            elif local in NOT_RUNNABLE_HERE:
                self.add(element, gettext("Elemen BPMN {tag} tidak dapat dijalankan di sini: {reason}.",
                                          tag=local, reason=NOT_RUNNABLE_HERE[local]))
            elif local in BPMN_EVENT_DEFINITIONS and local not in SUPPORTED_EVENT_DEFINITIONS:
                self.add(self._owner(element), gettext("Elemen BPMN {tag} tidak didukung oleh mesin proses.",
                                                       tag=local))
            if local in HUMAN_TASKS:
                self._human_task(element, local, lane_of, user_task_ids)
            elif local == "scriptTask":
                script = element.find(f"{{{BPMN}}}script")
                self._script(element, script.text if script is not None and script.text else "", required=True)
            elif local in ("conditionExpression", "condition", "completionCondition", "loopCardinality"):
                self._condition(self._owner(element), element.text or "")
            elif local == "timerEventDefinition":
                self._timer(self._owner(element), element)

    def _owner(self, element: etree._Element) -> etree._Element:
        """The nearest ancestor with an id that the canvas shows (an event, a task, a flow)."""
        node = element.getparent()
        while node is not None:
            if node.get("id") and _local(node.tag) not in ("extensionElements", "multiInstanceLoopCharacteristics") \
                    and not _local(node.tag).endswith("EventDefinition"):
                return node
            node = node.getparent()
        return element

    def _lane(self, element: etree._Element, lane_of: dict[str, str | None]) -> tuple[bool, str | None]:
        node = element
        while node is not None and _local(node.tag) != "process":
            if node.get("id") in lane_of:
                return True, lane_of[node.get("id")]
            node = node.getparent()
        return False, None

    def _human_task(self, element: etree._Element, local: str, lane_of: dict[str, str | None],
                    user_task_ids: set[str | None]) -> None:
        in_lane, lane = self._lane(element, lane_of)
        if not in_lane:
            self.add(element, gettext(
                "Tugas tidak berada di jalur (lane) mana pun; letakkan di jalur peran yang mengerjakannya."))
        elif lane not in self.lanes:
            self.add(element, gettext("Jalur \"{lane}\" bukan peran yang dikenal (pilih salah satu: {known}).",
                                      lane=lane or "", known=", ".join(self.lanes)))
        props = _properties(element)
        if local == "userTask":
            form = (props.get("formJsonSchemaFilename") or "").strip()
            if not form:
                self.add(element, gettext("Tugas pengguna belum memiliki formulir (formJsonSchemaFilename)."))
            elif form not in self.forms:
                self.add(element, gettext("Formulir \"{form}\" tidak ada.", form=form))
            elif form in self.broken_forms:
                self.add(element, gettext("Formulir \"{form}\" tidak lolos pemeriksaan formulir: {reason}",
                                          form=form, reason=self.broken_forms[form]))
        due = props.get("dueWorkingDays")
        if due not in (None, "") and not str(due).strip().isdigit():
            self.add(element, gettext("dueWorkingDays harus bilangan bulat hari kerja (0 atau lebih), bukan \"{value}\".",
                                      value=due))
        for ref in _split(props.get("separateFrom")):
            if ref == element.get("id") or ref not in user_task_ids:
                self.add(element, gettext("separateFrom menyebut \"{ref}\", yang bukan tugas pengguna lain dalam proses ini.",
                                          ref=ref))
        role = (props.get("escalationRole") or "").strip()
        if role and role not in self.lanes and role not in ESCALATION_ROLES:
            self.add(element, gettext("escalationRole \"{role}\" tidak dikenal (pilih jalur atau manager).", role=role))
        waiting = props.get("waitingOnApplicant")
        if waiting not in (None, "") and str(waiting).strip().lower() not in ("true", "false"):
            self.add(element, gettext("waitingOnApplicant harus true atau false, bukan \"{value}\".", value=waiting))

    def _script(self, element: etree._Element, source: str, required: bool) -> None:
        if not source.strip():
            if required:
                self.add(element, gettext("Tugas skrip tidak berisi skrip."))
            return
        errors = check_source(source, "exec")
        if errors:
            self.add(element, gettext("Skrip ditolak: {reason}", reason=" ".join(errors)))

    def _condition(self, element: etree._Element, source: str) -> None:
        if not source.strip():
            self.add(element, gettext("Kondisi kosong."))
            return
        errors = check_source(source.strip(), "eval")
        if errors:
            self.add(element, gettext("Kondisi ditolak: {reason}", reason=" ".join(errors)))

    def _timer(self, event: etree._Element, definition: etree._Element) -> None:
        for kind in ("timeDuration", "timeDate", "timeCycle"):
            node = definition.find(f"{{{BPMN}}}{kind}")
            if node is not None:
                self._timer_expression(event, kind, (node.text or "").strip())
                return
        self.add(event, gettext("Timer tidak memiliki waktu (timeDuration, timeDate atau timeCycle)."))

    def _timer_expression(self, event: etree._Element, kind: str, expression: str) -> None:
        if not expression:
            self.add(event, gettext("Timer tidak memiliki waktu (timeDuration, timeDate atau timeCycle)."))
            return
        errors = check_source(expression, "eval")
        if errors:
            self.add(event, gettext("Ekspresi timer ditolak: {reason}", reason=" ".join(errors)))
            return
        if looks_like_unquoted_iso(expression):
            self.add(event, gettext(
                "Timer {value} harus ditulis dalam tanda kutip: \"{value}\" (ekspresi dibaca sebagai Python).",
                value=expression))
            return
        literal = _string_literal(expression)
        reason = timer_literal_error(_timer_kind(kind), literal) if literal is not None else None
        if reason:
            self.add(event, gettext("Timer \"{value}\" bukan {kind} ISO 8601 yang sah: {reason}",
                                    value=literal, kind=gettext(_TIMER_KIND_WORDS[kind]), reason=reason))


def _timer_kind(kind: str) -> TimerKind:
    if kind == "timeDate":
        return "timeDate"
    if kind == "timeCycle":
        return "timeCycle"
    return "timeDuration"


def _string_literal(expression: str) -> str | None:
    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _properties(element: etree._Element) -> dict[str, str]:
    """The task's spiffworkflow:property name -> value pairs (as SpiffWorkflow reads them)."""
    props: dict[str, str] = {}
    for prop in element.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        name = prop.get("name")
        if name:
            props[name] = prop.get("value") if prop.get("value") is not None else (prop.text or "")
    return props


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]
