"""Opening an application file and reading its state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from app import catalogue
from app.auth.models import LaneMembership, User
from app.config import Settings
from app.engine.definitions import require_latest_definition
from app.engine.errors import NotFound
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance, TaskStatus, open_task
from app.engine.runtime import InstanceChange, Runtime
from app.files.days import WorkingDays
from app.files.models import ApplicationFile, Attachment, FileNumberCounter
from app.files.search import index_file
from app.i18n import N_

# A file's process status in words (file page, files list); translated where shown.
STATUS_WORDS = {"running": N_("sedang diproses"), "completed": N_("selesai diproses"), "error": N_("terhenti karena kesalahan"),
                "cancelled": N_("proses dibatalkan")}


def open_file(session: Session, runtime: Runtime, settings: Settings, process_id: str, applicant_name: str,
              actor: str, *, definition: ProcessDefinition | None = None) -> ApplicationFile:
    """Open a file for ``process_id``, give it its number and start its procedure.

    The number is taken and the procedure started first, so the file's row is written once, whole
    (number and instance): while its first step opens, the instance has no file yet, as before."""
    if definition is None:  # else the caller read the latest one in this transaction (the intake does)
        definition = require_latest_definition(session, process_id)
    now = runtime.clock.now()
    prefix = catalogue.file_prefix(process_id, default=process_id[:3].upper())  # the catalogue owns prefixes
    year = now.year
    serial = next_file_serial(session, prefix, year)
    number = f"{prefix}-{year}-{serial:06d}"
    instance = runtime.start(session, definition, {
        "file_number": number,
        "file_serial": f"{year}/{serial:06d}",  # for permit numbers: 640/PBG/2026/000001, the prefix said once
        "resubmission_days": settings.resubmission_days,
    }, actor)
    file = ApplicationFile(process_id=process_id, applicant_name=applicant_name, created_at=now, created_by=actor,
                           file_number=number, instance=instance)
    session.add(file)
    session.flush()
    index_file(session, file)
    return file


# Built once: every listener of a step that needs the file runs one of these.
_FILE_OF_INSTANCE = select(ApplicationFile).where(ApplicationFile.instance_id == bindparam("instance_id"))
_FILE_OF_INSTANCE_LOCKED = _FILE_OF_INSTANCE.with_for_update()
_FILE_KEY = "application_file"  # in InstanceChange.shared


def file_of_change(session: Session, change: InstanceChange, *, lock: bool = False) -> ApplicationFile | None:
    """The file of the instance a unit of work changed, read once for all the runtime's listeners of
    that change (the next one is given what the first read). ``lock``: read it ``FOR UPDATE``
    (the SLA tracker, the first listener, does when it moves the file's clock)."""
    if lock or _FILE_KEY not in change.shared:
        with session.no_autoflush:
            change.shared[_FILE_KEY] = session.scalars(_FILE_OF_INSTANCE_LOCKED if lock else _FILE_OF_INSTANCE,
                                                       {"instance_id": change.instance.id}).first()
    file: ApplicationFile | None = change.shared[_FILE_KEY]
    return file


def next_file_serial(session: Session, prefix: str, year: int) -> int:
    """The next number of the files of ``prefix`` (a permit type) in ``year``: 1, 2, 3 ... per type and year.
    One statement takes it (an upsert returning the new count); the counter row stays locked until
    the transaction ends, so two desks never get the same number."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    counter = FileNumberCounter.__table__.c
    taken = session.execute(insert(FileNumberCounter).values(prefix=prefix, year=year, last=1)
                            .on_conflict_do_update(index_elements=["prefix", "year"], set_={"last": counter.last + 1})
                            .returning(counter.last))
    return int(taken.scalar_one())


def get_file(session: Session, file_number: str) -> ApplicationFile:
    file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == file_number)).first()
    if file is None:
        raise NotFound(f"no file {file_number!r}")
    return file


@dataclass
class FileState:
    file: ApplicationFile
    status: str
    open_tasks: list[HumanTask]
    history: list[InstanceEvent]
    error: str | None
    runtime: Runtime

    @cached_property
    def data(self) -> dict[str, Any]:
        """The process data, read from the stored workflow when first asked for."""
        assert self.file.instance is not None
        return self.runtime.data(self.file.instance, self.history)


_FILE_AND_WORKFLOW = (select(ApplicationFile).where(ApplicationFile.file_number == bindparam("number"))
                      .options(joinedload(ApplicationFile.instance)))
# A file's open steps, oldest first (the file's state and the API's summary show them).
_OPEN_TASKS = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"), open_task()).order_by(HumanTask.id)


def file_state(session: Session, runtime: Runtime, file_number: str) -> FileState:
    """Where a file stands: status, open steps, history and process data (``ptsp`` commands, tests)."""
    file = session.scalars(_FILE_AND_WORKFLOW, {"number": file_number}).first()
    if file is None:
        raise NotFound(f"no file {file_number!r}")
    instance = file.instance
    if instance is None:
        raise NotFound(f"file {file_number!r} has no process")
    tasks = list(session.scalars(_OPEN_TASKS, {"instance_id": instance.id}))
    history = list(session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == instance.id).order_by(InstanceEvent.id)))
    return FileState(file, instance.status, tasks, history, instance.error, runtime)


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    task_name: str | None
    actor: str


@dataclass(frozen=True)
class FileSummary:
    """What the API's file answer shows, and nothing more: the file's own fields, its process status,
    its open steps and its history's lines (no event details, SLA columns, definition or stored workflow)."""

    file_number: str
    process_id: str
    applicant_name: str
    promised_date: date | None
    status: str
    open_tasks: list[HumanTask]
    history: list[HistoryLine]


# Built once (an integration polls a file before each step): plain columns, not entities. Loading the file,
# its instance and its definition (joined eagerly) and every event with its compressed detail as entities
# cost about as much CPU as the rest of the request.
_SUMMARY = (select(ApplicationFile.process_id, ApplicationFile.applicant_name,
                   ApplicationFile.promised_date, ProcessInstance.id, ProcessInstance.status)
            .outerjoin(ProcessInstance, ProcessInstance.id == ApplicationFile.instance_id)
            .where(ApplicationFile.file_number == bindparam("number")))
_HISTORY_LINES = (select(InstanceEvent.at, InstanceEvent.kind, InstanceEvent.task_name, InstanceEvent.actor)
                  .where(InstanceEvent.instance_id == bindparam("instance_id")).order_by(InstanceEvent.id))


def file_summary(session: Session, file_number: str) -> FileSummary:
    """A file as the API shows it: three statements, none of them reading the stored workflow."""
    row = session.execute(_SUMMARY, {"number": file_number}).first()
    if row is None:
        raise NotFound(f"no file {file_number!r}")
    process_id, applicant_name, promised, instance_id, status = row
    if instance_id is None:
        raise NotFound(f"file {file_number!r} has no process")
    tasks = list(session.scalars(_OPEN_TASKS, {"instance_id": instance_id}))
    history = [HistoryLine(*line) for line in session.execute(_HISTORY_LINES, {"instance_id": instance_id})]
    return FileSummary(file_number, process_id, applicant_name, promised, str(status), tasks, history)


# -- who may read files -------------------------------------------------------------
FILE_READER_ROLES = ("manager", "admin")


def may_read_files(user: Any) -> bool:
    """Officers of any lane, managers and administrators read files (and their documents)."""
    return bool(getattr(user, "lane_names", None)) or getattr(user, "role", None) in FILE_READER_ROLES


# -- the promise on the receipt -----------------------------------------------------
def promised_working_days(process_id: str, settings: Settings) -> int:
    """Working days promised to the applicant: the permit type's legal limit, as the
    catalogue publishes it (``Settings.sla_default_working_days`` for a process it lacks)."""
    return catalogue.duration_days(process_id, default=settings.sla_default_working_days)


def promised_date(calendar: WorkingDays, settings: Settings, process_id: str, received_at: datetime) -> date:
    """The date a file received at ``received_at`` is promised for: the limit in working days
    counted from the office-local date of receipt (that day itself does not count)."""
    return calendar.add_working_days(calendar.local_date(received_at), promised_working_days(process_id, settings))


# -- the file page ------------------------------------------------------------------
@dataclass
class TimelineEntry:
    """One line of a file's history: a step (user task) or something the process did itself."""

    kind: str  # task|started|timer_fired|error|retried|completed
    title: str
    at: datetime  # when the step opened, or when the event happened
    finished_at: datetime | None = None
    status: str = ""  # for steps: open|completed|cancelled
    lane: str | None = None
    task_name: str | None = None
    actor: str | None = None  # username
    actor_name: str | None = None
    note: str = ""

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.at if self.finished_at is not None else None


_EVENT_TITLES = {
    "started": N_("Berkas dibuka"),
    "timer_fired": N_("Batas waktu tercapai"),
    "error": N_("Proses terhenti karena kesalahan"),
    "retried": N_("Proses dijalankan ulang"),
    "completed": N_("Proses selesai"),
    "migrated": N_("Dipindahkan ke versi proses baru"),
    "reassigned": N_("Langkah dialihkan"),
    "pin_reissued": N_("PIN pelacakan diterbitkan ulang"),
}
# Steps are shown as their own rows (who, when, how long), so their completion events are not repeated.
_SHOWN_AS_STEPS = ("task_completed",)


def _event_note(kind: str, detail: Any) -> str:
    if not isinstance(detail, dict):
        return ""
    if kind == "migrated":
        return f"v{detail.get('from_version', '?')} \u2192 v{detail.get('to_version', '?')}"
    if kind == "reassigned":
        dash = "\u2013"
        return f"{detail.get('from') or dash} \u2192 {detail.get('to') or dash}"
    return str(detail.get("timer") or detail.get("message") or "")


def file_timeline(session: Session, file: ApplicationFile) -> list[TimelineEntry]:
    """Every step of a file (who, when, how long) and what the process did on its own, in order."""
    if file.instance_id is None:
        return []
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)
                            .order_by(HumanTask.created_at, HumanTask.id)).all()
    events = session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == file.instance_id, InstanceEvent.kind.not_in(_SHOWN_AS_STEPS))
        .order_by(InstanceEvent.at, InstanceEvent.id)).all()
    entries = [TimelineEntry(kind="task", title=t.title, at=t.created_at, finished_at=t.completed_at, status=t.status,
                             lane=t.lane, task_name=t.task_name, actor=t.completed_by) for t in tasks]
    for e in events:
        entries.append(TimelineEntry(kind=e.kind, title=_EVENT_TITLES.get(e.kind, e.kind), at=e.at, task_name=e.task_name,
                                     actor=None if e.actor.startswith("system") else e.actor,
                                     note=_event_note(e.kind, e.detail)))
    names = _full_names(session, {e.actor for e in entries if e.actor})
    for entry in entries:
        entry.actor_name = names.get(entry.actor or "", entry.actor)
    # A step opened in the same instant as an event comes after it ("opened" before "first step").
    order = {"started": 0, "timer_fired": 1, "retried": 1, "task": 2, "error": 3, "completed": 4}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 2)))
    return entries


def _full_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.full_name).where(User.username.in_(usernames)))
    return {username: full_name for username, full_name in rows}


def file_attachments(session: Session, file: ApplicationFile) -> list[Attachment]:
    """The documents handed in with a file, in the order they were received."""
    return list(session.scalars(select(Attachment).where(Attachment.file_id == file.id).order_by(Attachment.id)))


FRONT_DESK_LANE = "front_office"


def handed_in_documents(session: Session, file: ApplicationFile) -> list[Attachment]:
    """The documents the applicant handed in at the front desk (at registration or a resubmission),
    not those the office added later (a survey photo of the technical team)."""
    desk = select(LaneMembership.user_id).where(LaneMembership.lane == FRONT_DESK_LANE)
    desk_users = select(User.username).where(User.id.in_(desk))
    return list(session.scalars(select(Attachment).where(
        Attachment.file_id == file.id,
        (Attachment.uploaded_by == file.created_by) | Attachment.uploaded_by.in_(desk_users))
        .order_by(Attachment.id)))


def get_attachment(session: Session, file: ApplicationFile, attachment_id: int) -> Attachment:
    """One document of ``file`` (a document of another file is not found)."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.file_id != file.id:
        raise NotFound(f"file {file.file_number!r} has no document {attachment_id}")
    return attachment


@dataclass(frozen=True)
class DiagramMarks:
    """Element ids of a file's diagram to highlight: steps done and steps open now."""

    done: list[str]
    current: list[str]


def diagram_marks(session: Session, file: ApplicationFile) -> DiagramMarks:
    if file.instance_id is None:
        return DiagramMarks([], [])
    rows = [(name, status) for name, status in session.execute(select(HumanTask.task_name, HumanTask.status).where(
        HumanTask.instance_id == file.instance_id))]
    fired = session.scalars(select(InstanceEvent.task_name).where(
        InstanceEvent.instance_id == file.instance_id, InstanceEvent.kind == "timer_fired")).all()
    current = sorted({name for name, status in rows if status == TaskStatus.OPEN})
    done = sorted(({name for name, status in rows if status == TaskStatus.COMPLETED} | {n for n in fired if n}) - set(current))
    return DiagramMarks(done, current)


# -- what the applicant is waiting on, how the file ended ---------------------------------
def missing_documents(session: Session, file: ApplicationFile) -> list[str]:
    """Document types the office last found missing (the ``missing_documents`` of the latest step that
    recorded them, e.g. the document check); empty when none are missing."""
    if file.instance_id is None:
        return []
    events = session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == file.instance_id, InstanceEvent.kind == "task_completed")
        .order_by(InstanceEvent.id.desc()))
    for event in events:
        data = (event.detail or {}).get("data") if isinstance(event.detail, dict) else None
        if isinstance(data, dict) and "missing_documents" in data:
            found = data.get("missing_documents") or []
            return [str(d) for d in found] if isinstance(found, list) else []
    return []
