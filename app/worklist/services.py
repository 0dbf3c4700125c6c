"""Human tasks: who may see, claim and complete them, the worklist, and task forms.

Who may do a task:

- only members of its lane see it, claim it or complete it (:class:`NotYourLane`);
- a claimed task is completed only by its claimant (:class:`ClaimedByOther`); an
  unclaimed one by any member of its lane, who holds it from that moment;
- a step whose diagram property ``separateFrom`` names other steps (comma-separated
  task names) may not be done by someone who completed one of those steps of the
  same file (:class:`DutiesSeparated`: segregation of duties).

Claims and completions take the task row with one conditional ``UPDATE`` (``WHERE
claimed_by IS NULL`` / ``status = 'open'``) and check its row count, so when two
officers act at the same moment exactly one wins and the other is told why.

The worklist reads only indexed columns: per lane, the index
``(status, lane, due_at, created_at, id)`` gives the most urgent tasks in order
(keyset pagination), and the lanes' pages are merged.
"""
from __future__ import annotations

import heapq
import re
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session, joinedload
from werkzeug.datastructures import FileStorage, MultiDict

from app import catalogue
from app.auth.models import User
from app.config import Settings
from app.db import UTCDateTime
from app.engine.errors import ConcurrentUpdate, EngineError, NotFound, TaskAlreadyDone
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from app.engine.runtime import Runtime
from app.files.models import ApplicationFile, Attachment
from app.files.storage import UploadRefused, attachment_reference, check_upload, store_upload
from app.i18n import gettext, register
from app.permits.services import PermitIssuer, validity_problems
from app.worklist.form_render import parse_submission
from app.worklist.forms import FieldError, FormRegistry

# The lane whose members supervise: they may release anyone's claim (as may managers).
SUPERVISOR_LANE = "head"
SEPARATE_FROM = "separateFrom"


class NotYourLane(EngineError):
    """The task belongs to a lane the user is not a member of."""


class FormInvalid(EngineError):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or '(form)'}: {e.message}" for e in errors))


class SubmissionInvalid(FormInvalid):
    """A browser form with errors; ``refused`` are its uploads refused, by field path."""

    def __init__(self, errors: list[FieldError], refused: dict[str, UploadRefused]) -> None:
        self.refused = refused
        super().__init__([FieldError(path, str(error)) for path, error in refused.items()] + errors)


class ClaimedByOther(EngineError):
    """Another officer holds (has claimed) the task."""

    def __init__(self, task: HumanTask, holder: str) -> None:
        self.holder = holder
        super().__init__(f"task {task.title!r} is claimed by {holder!r}; only they can complete it or release it")


class DutiesSeparated(EngineError):
    """Segregation of duties: the user did a step of this file that excludes this one."""

    def __init__(self, task: HumanTask, done_titles: list[str]) -> None:
        self.done_titles = done_titles
        super().__init__(f"you completed {', '.join(done_titles)} of this file, so {task.title!r} "
                         "must be done by someone else (segregation of duties)")


class NotClaimed(EngineError):
    """Releasing a task nobody holds."""


class ReleaseRefused(EngineError):
    """Only the claimant, a member of the head lane or a manager may release a claim."""


# ---------------------------------------------------------------------------
# Reading tasks
def open_tasks(session: Session, lanes: Iterable[str], limit: int = 200) -> list[HumanTask]:
    """Open tasks in ``lanes``, oldest first."""
    return list(session.scalars(
        select(HumanTask).where(HumanTask.status == "open", HumanTask.lane.in_(list(lanes)))
        .order_by(HumanTask.created_at, HumanTask.id).limit(limit)
    ))


def get_task_for(session: Session, task_id: int, user: User, *, for_update: bool = False) -> HumanTask:
    """A task the user may see: one of their lanes. ``for_update``: locked until the transaction
    ends and read as the latest committed version (a competing completion is waited for, then seen)."""
    # The instance (and its definition) come in the same query: completing needs them.
    task = session.get(HumanTask, task_id, options=[joinedload(HumanTask.instance)],
                       with_for_update={"of": HumanTask} if for_update else None, populate_existing=for_update)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.lane not in user.lane_names:
        raise NotYourLane(f"task {task_id} belongs to lane {task.lane!r}, which {user.username!r} is not a member of")
    return task


# ---------------------------------------------------------------------------
# Segregation of duties
def separated_steps(user_tasks: dict[str, Any], task_name: str) -> list[str]:
    """The steps (task names) whose doer may not do ``task_name``, from its ``separateFrom`` property."""
    props = (user_tasks.get(task_name) or {}).get("properties") or {}
    return [name.strip() for name in str(props.get(SEPARATE_FROM) or "").split(",") if name.strip()]


def _step_title(user_tasks: dict[str, Any], task_name: str) -> str:
    return str((user_tasks.get(task_name) or {}).get("title") or task_name)


def separation_conflicts(session: Session, task: HumanTask, user: User) -> list[str]:
    """Titles of the steps of this file the user completed that exclude them from ``task`` (empty: allowed)."""
    user_tasks = task.instance.definition.user_tasks or {}
    names = separated_steps(user_tasks, task.task_name)
    if not names:
        return []
    done = session.scalars(select(HumanTask.task_name).where(
        HumanTask.instance_id == task.instance_id, HumanTask.status == "completed",
        HumanTask.completed_by == user.username, HumanTask.task_name.in_(names)).distinct())
    return [_step_title(user_tasks, name) for name in sorted(set(done), key=names.index)]


def ensure_may_work_on(session: Session, task: HumanTask, user: User) -> None:
    """Raise why ``user`` may not complete ``task`` now (lane already checked): done, held by another,
    or excluded by segregation of duties."""
    if task.status != "open":
        raise TaskAlreadyDone(_done_message(task))
    if task.claimed_by is not None and task.claimed_by != user.username:
        raise ClaimedByOther(task, task.claimed_by)
    conflicts = separation_conflicts(session, task, user)
    if conflicts:
        raise DutiesSeparated(task, conflicts)


def _done_message(task: HumanTask) -> str:
    if task.status == "completed":
        return f"task {task.title!r} was already completed by {task.completed_by!r}"
    return f"task {task.title!r} was already {task.status}"


# ---------------------------------------------------------------------------
# Claiming
def claim_task(session: Session, task_id: int, user: User, now: datetime) -> HumanTask:
    """Claim an open task of one of the user's lanes: from now on only they can complete it.

    Claiming a task one already holds changes nothing. Raises NotFound, NotYourLane,
    TaskAlreadyDone, ClaimedByOther or DutiesSeparated; in each case nothing is changed.
    Of two officers claiming at the same moment exactly one wins (a conditional update).
    """
    task = get_task_for(session, task_id, user)
    if task.status == "open" and task.claimed_by == user.username:
        return task
    ensure_may_work_on(session, task, user)
    claimed = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.claimed_by.is_(None))
        .values(claimed_by=user.username, claimed_at=now)
        .execution_options(synchronize_session=False))
    session.refresh(task, ["status", "claimed_by", "claimed_at", "completed_by"])
    if _rowcount(claimed) != 1 and task.claimed_by != user.username:
        if task.status != "open":
            raise TaskAlreadyDone(_done_message(task))
        raise ClaimedByOther(task, task.claimed_by or "?")
    return task


def may_release_any(user: User) -> bool:
    """Supervisors release claims of others: members of the head lane and managers."""
    return SUPERVISOR_LANE in user.lane_names or user.has_role("manager")


def release_task(session: Session, task_id: int, user: User) -> HumanTask:
    """Give a claimed task back to its lane. Allowed to the claimant, a member of the head
    lane or a manager. Raises NotFound, NotYourLane, TaskAlreadyDone, NotClaimed,
    ReleaseRefused or ConcurrentUpdate; in each case nothing is changed."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    supervisor = may_release_any(user)
    if task.lane not in user.lane_names and not supervisor:
        raise NotYourLane(f"task {task_id} belongs to lane {task.lane!r}, which {user.username!r} is not a member of")
    if task.status != "open":
        raise TaskAlreadyDone(_done_message(task))
    holder = task.claimed_by
    if holder is None:
        raise NotClaimed(f"task {task.title!r} is not claimed by anyone")
    if holder != user.username and not supervisor:
        raise ReleaseRefused(f"task {task.title!r} is claimed by {holder!r}; only they, a member of the head lane "
                             "or a manager can release it")
    released = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.claimed_by == holder)
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(task, ["status", "claimed_by", "claimed_at", "completed_by"])
    if _rowcount(released) != 1:
        raise ConcurrentUpdate(f"task {task.title!r} changed at the same moment; nothing was released, please reload")
    return task


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------------------
# Completing
def complete_task(session: Session, runtime: Runtime, forms: FormRegistry, task_id: int, data: Any,
                  user: User) -> HumanTask:
    """Validate ``data`` against the task's form and complete it.

    Raises NotYourLane, TaskAlreadyDone, ClaimedByOther, DutiesSeparated, FormInvalid
    (with every field error), TaskNotReady or ConcurrentUpdate; in each case nothing
    is changed. An unclaimed task is taken by the completing officer with a
    conditional update first, so of two officers completing at once exactly one
    goes on and the other gets TaskAlreadyDone. A claim lasts while the task is open
    (``completed_by`` says who did it), so the claims index holds open claims only.
    """
    # Take the row first: a competing completion or claim is waited for (PostgreSQL) and then seen;
    # on SQLite the instance's version check refuses the second writer.
    task = get_task_for(session, task_id, user, for_update=True)
    ensure_may_work_on(session, task, user)
    if not isinstance(data, dict):
        raise FormInvalid([FieldError("", "data must be a JSON object")])
    errors = forms.validate(task.form, data) if task.form else (
        [FieldError("", "this step has no form; send an empty object")] if data else [])
    if not errors:
        errors = _validity_errors(runtime, task, data)
    if errors:
        raise FormInvalid(errors)
    task.claimed_by = task.claimed_at = None  # a claim lasts while the task is open
    runtime.complete(session, task, _plain(data), user.username)
    return task


def take_task_row(session: Session, task: HumanTask, user: User) -> None:
    """Take the task's row for a browser completion, before its uploads are written: the conditional
    update waits for (and then sees) a competing completion or claim, which raises TaskAlreadyDone or
    ClaimedByOther. A write, not a locking read, so that SQLite too serialises the racers here (before
    any of them stages a file). Taking it first keeps every completion's locks in one order."""
    held = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open",
               or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == user.username))
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(task, ["status", "claimed_by", "claimed_at", "completed_by"])
    if _rowcount(held) != 1:
        if task.status != "open":
            raise TaskAlreadyDone(_done_message(task))
        raise ClaimedByOther(task, task.claimed_by or "?")


register({"Tanggal berlaku sampai tidak boleh sebelum tanggal berlaku mulai atau tanggal terbit.":
          "The valid-until date may not be before the valid-from date or the issue date."})


def _validity_errors(runtime: Runtime, task: HumanTask, data: dict[str, Any]) -> list[FieldError]:
    """A permit may not be drafted to expire before it starts (or before it is issued, today)."""
    process_id = task.process_id  # the permit type, on the task's own row (no read of the file)
    # The issue date as the issuer will write it (in the office's zone).
    zone = next((listener.zone for listener in runtime.listeners if isinstance(listener, PermitIssuer)), UTC)
    today = runtime.clock.now().astimezone(zone).date()
    problems = validity_problems(catalogue.current(), process_id, data, today)
    return [FieldError(path, gettext(message)) for path, message in problems.items()]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in data.items()}


# ---------------------------------------------------------------------------
# Task forms submitted from the browser, with their uploads
@dataclass
class StagedUpload:
    """An upload checked (type, size, sha256) but not stored until the form is accepted."""

    upload: FileStorage
    sha256: str = ""
    error: UploadRefused | None = None


@dataclass
class TaskSubmission:
    """A submitted task form as JSON; each upload stands in as a provisional reference."""

    data: dict[str, Any]
    uploads: dict[str, StagedUpload] = field(default_factory=dict)


_STAGED = "staged-"


def read_task_submission(schema: dict[str, Any], form: MultiDict[str, str], files: MultiDict[str, FileStorage],
                         max_bytes: int) -> TaskSubmission:
    """The form's JSON, each upload checked but not stored (nothing is written for a form with errors)."""
    uploads: dict[str, StagedUpload] = {}

    def stage(upload: FileStorage, _path: str) -> dict[str, Any]:
        token = f"{_STAGED}{secrets.token_hex(8)}"
        staged = StagedUpload(upload)
        try:
            staged.sha256 = check_upload(upload, max_bytes).sha256
        except UploadRefused as refused:
            staged.error = refused
        uploads[token] = staged
        # A refused upload gets a well-formed stand-in digest: its error is reported on its field.
        return {"reference": token, "sha256": staged.sha256 or "0" * 64}

    return TaskSubmission(parse_submission(schema, form, files, stage) if schema else {}, uploads)


def attachments_in(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, attachment object) of every attachment in form data."""
    if isinstance(value, dict):
        if "reference" in value and "sha256" in value:
            yield path, value
            return
        for key, item in value.items():
            yield from attachments_in(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from attachments_in(item, f"{path}/{index}" if path else str(index))


_ATTACHMENT_REF = re.compile(r"^att-(\d{1,12})$")


def submission_problems(session: Session, forms: FormRegistry, task: HumanTask,
                        submission: TaskSubmission) -> tuple[list[FieldError], dict[str, UploadRefused]]:
    """The form's validation errors and the refused uploads by field path. A reference the
    browser sends back must be an attachment of this file with the same sha256."""
    refused: dict[str, UploadRefused] = {}
    file_id = _file_id(session, task.instance_id)
    for path, item in attachments_in(submission.data):
        reference = str(item.get("reference") or "")
        staged = submission.uploads.get(reference)
        if staged is not None:
            if staged.error is not None:
                refused[path] = staged.error
            elif file_id is None:
                refused[path] = UploadRefused("this task's process has no application file to attach documents to",
                                              "no_file")
            continue
        match = _ATTACHMENT_REF.match(reference)
        known = match and file_id is not None and session.scalar(select(Attachment.id).where(
            Attachment.id == int(match.group(1)), Attachment.file_id == file_id,
            Attachment.sha256 == str(item.get("sha256") or "")))
        if not known:
            refused[path] = UploadRefused(f"{reference}: not a document of this file", "unknown")
    errors = forms.validate(task.form, submission.data) if task.form else []
    return errors, refused


def complete_task_submission(session: Session, runtime: Runtime, forms: FormRegistry, settings: Settings,
                             task_id: int, submission: TaskSubmission, user: User) -> HumanTask:
    """Complete a task from a browser form: refused uploads and form errors raise SubmissionInvalid
    (each beside its field, nothing stored); otherwise the uploads are stored as attachments
    of the file, their references and sha256 put into the data, and the task completed."""
    task = get_task_for(session, task_id, user)
    ensure_may_work_on(session, task, user)
    errors, refused = submission_problems(session, forms, task, submission)
    if errors or refused:
        raise SubmissionInvalid(errors, refused)
    # The task's row first, the uploads after: a competing submission waits here and is told
    # (409) before it writes anything, and no transaction holds file locks the winner needs.
    take_task_row(session, task, user)
    file_id = _file_id(session, task.instance_id)
    for _path, item in attachments_in(submission.data):
        staged = submission.uploads.get(str(item.get("reference")))
        if staged is None or file_id is None:
            continue
        stream = staged.upload.stream
        if hasattr(stream, "seek"):
            stream.seek(0)
        attachment = store_upload(session, settings.var_dir, runtime.clock, file_id, staged.upload,
                                  str(item.get("document_type") or "lainnya")[:50], user.username,
                                  settings.max_upload_bytes)
        item["reference"], item["sha256"] = attachment_reference(attachment), attachment.sha256
    errors = forms.validate(task.form, submission.data) if task.form else []
    if errors:
        raise FormInvalid(errors)
    runtime.complete(session, task, _plain(submission.data), user.username)
    return task


def redisplay_data(submission: TaskSubmission, keep: Callable[[FileStorage], str] | None = None) -> dict[str, Any]:
    """The submitted data to show again beside its errors: uploads were not stored; each one that
    passed its checks is kept aside by ``keep`` (its token and name shown with its row, see
    app/files/kept_uploads.py), a refused one is chosen again."""
    for _path, item in attachments_in(submission.data):
        reference = str(item.get("reference", ""))
        if reference.startswith(_STAGED):
            item.pop("reference", None)
            item.pop("sha256", None)
            staged = submission.uploads.get(reference)
            if keep is not None and staged is not None and staged.error is None:
                item["kept"], item["kept_name"] = keep(staged.upload), staged.upload.filename
    return submission.data


def _file_id(session: Session, instance_id: int) -> int | None:
    return session.scalar(select(ApplicationFile.id).where(ApplicationFile.instance_id == instance_id).limit(1))


# ---------------------------------------------------------------------------
# The worklist
CLAIM_FILTERS = ("mine", "unclaimed")
MAX_PAGE_SIZE = 100
COUNT_CAP = 1000
MAX_HELD = 1000  # claims of one officer read for "mine" (a claim lasts while its task is open)
# The step's own due time, when the SLA columns exist (app/sla/tracking.py fills it).
_due: Any = getattr(HumanTask, "due_at", None)


def has_due_times() -> bool:
    return _due is not None


@dataclass(frozen=True)
class WorklistFilters:
    permit_type: str | None = None  # a process id
    step: str | None = None  # a task name
    overdue: bool = False  # only steps past their due time
    claim: str | None = None  # "mine" (claimed by me) | "unclaimed" | None (all)


@dataclass(frozen=True)
class PageRequest:
    after: str | None = None  # the cursor of the previous page's last row
    size: int = 50


@dataclass
class WorklistRow:
    task: HumanTask
    file_number: str | None
    applicant: str | None
    permit_type: str
    step: str
    age: timedelta
    due_at: datetime | None
    time_left: timedelta | None
    overdue: bool
    sla_state: str | None
    claimed_by: str | None
    claimed_by_name: str | None
    mine: bool
    # Titles of the steps of this file the user did that exclude them from this one.
    not_allowed: list[str]


@dataclass
class WorklistPage:
    rows: list[WorklistRow]
    next_after: str | None  # None on the last page
    count: int  # matching tasks, counted up to COUNT_CAP
    count_capped: bool  # more than COUNT_CAP match
    has_due: bool


@dataclass(frozen=True)
class WorklistOptions:
    permit_types: list[tuple[str, str]]  # (process id, name)
    steps: list[tuple[str, str]]  # (task name, title)


def worklist_options(session: Session, user: User, lanes_shown: Collection[str] | None = None) -> WorklistOptions:
    """Permit types and steps the user's lanes (or ``lanes_shown``) have, for the worklist's
    filters (definitions are few)."""
    lanes = set(user.lane_names if lanes_shown is None else lanes_shown)
    rows = session.execute(select(ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.user_tasks)
                           .order_by(ProcessDefinition.process_id, ProcessDefinition.version)).all()
    permit_types: dict[str, str] = {}
    steps: dict[str, str] = {}
    for process_id, name, user_tasks in rows:  # later versions overwrite earlier names and titles
        mine = {n: info for n, info in (user_tasks or {}).items() if info.get("lane") in lanes}
        if mine:
            permit_types[process_id] = name
        steps.update({n: str(info.get("title") or n) for n, info in mine.items()})
    return WorklistOptions(sorted(permit_types.items(), key=lambda kv: kv[1]),
                           sorted(steps.items(), key=lambda kv: kv[1]))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# (phase, primary, created_at, id): phase 0 = steps with a due time, by due time;
# phase 1 = steps without one, oldest first. "primary" is due_at in phase 0 and created_at in phase 1.
SortKey = tuple[int, datetime, datetime, int]


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def encode_cursor(key: SortKey) -> str:
    phase, primary, created, task_id = key
    return f"{phase}.{_micros(primary)}.{_micros(created)}.{task_id}"


def decode_cursor(cursor: str | None) -> SortKey | None:
    """The position a cursor stands for; None (the first page) for a missing or malformed one."""
    if not cursor:
        return None
    parts = cursor.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"-?\d{1,20}", p) for p in parts):
        return None
    phase, primary, created, task_id = (int(p) for p in parts)
    if phase not in (0, 1):
        return None
    try:
        return phase, _from_micros(primary), _from_micros(created), task_id
    except OverflowError:
        return None


@dataclass(frozen=True)
class _Found:
    """A task of a worklist page with what its row shows, read in the same query."""

    task: HumanTask
    definition_id: int
    file_number: str | None
    applicant: str | None


def _sort_key(found: _Found) -> SortKey:
    task = found.task
    due = getattr(task, "due_at", None) if _due is not None else None
    if due is not None:
        return 0, due, task.created_at, task.id
    return 1, task.created_at, task.created_at, task.id


def _typed(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _conditions(user: User, filters: WorklistFilters, now: datetime) -> list[Any]:
    conditions: list[Any] = [HumanTask.status == "open"]
    if filters.step:
        conditions.append(HumanTask.task_name == filters.step)
    if filters.permit_type:
        conditions.append(HumanTask.process_id == filters.permit_type)
    if filters.claim == "mine":
        conditions.append(HumanTask.claimed_by == user.username)
    elif filters.claim == "unclaimed":
        conditions.append(HumanTask.claimed_by.is_(None))
    if filters.overdue and _due is not None:
        conditions.append(_due < _typed(now))
    return conditions


def _lane_rows(session: Session, conditions: list[Any], after: SortKey | None, limit: int,
               overdue: bool) -> list[_Found]:
    """Up to ``limit`` open tasks matching ``conditions`` in urgency order after the cursor, with their
    instance's definition and their file; the task index gives the order, the rest are key lookups."""
    base = (select(HumanTask, ProcessInstance.definition_id, ApplicationFile.file_number,
                   ApplicationFile.applicant_name)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .outerjoin(ApplicationFile, ApplicationFile.instance_id == HumanTask.instance_id)
            .where(*conditions))
    queries: list[Any] = []  # Select statements of the same columns
    if _due is None:  # no due times: oldest first
        query = base
        if after is not None:
            query = query.where(tuple_(HumanTask.created_at, HumanTask.id) > tuple_(_typed(after[2]), literal(after[3])))
        queries.append(query.order_by(HumanTask.created_at, HumanTask.id))
    else:
        if after is None:
            queries.append(base.where(_due.is_not(None)).order_by(_due, HumanTask.created_at, HumanTask.id))
        elif after[0] == 0:
            # "due_at >= the cursor's" starts the index range there (it also excludes NULLs);
            # the row comparison then skips the rows of the same due time already shown.
            with_due = base.where(_due >= _typed(after[1]), tuple_(_due, HumanTask.created_at, HumanTask.id)
                                  > tuple_(_typed(after[1]), _typed(after[2]), literal(after[3])))
            queries.append(with_due.order_by(_due, HumanTask.created_at, HumanTask.id))
        if not overdue:
            without_due = base.where(_due.is_(None))
            if after is not None and after[0] == 1:
                without_due = without_due.where(
                    HumanTask.created_at >= _typed(after[2]),
                    tuple_(HumanTask.created_at, HumanTask.id) > tuple_(_typed(after[2]), literal(after[3])))
            # due_at leads the ORDER BY (all NULL here) so that it is the index's own order.
            queries.append(without_due.order_by(_due, HumanTask.created_at, HumanTask.id))
    found: list[_Found] = []
    for query in queries:
        if len(found) >= limit:
            break
        found += [_Found(*row) for row in session.execute(query.limit(limit - len(found)))]
    return found


def _held_rows(session: Session, ids: list[int]) -> list[_Found]:
    """The tasks ``ids`` by primary key only (no other condition for a planner to prefer)."""
    query = (select(HumanTask, ProcessInstance.definition_id, ApplicationFile.file_number,
                    ApplicationFile.applicant_name)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .outerjoin(ApplicationFile, ApplicationFile.instance_id == HumanTask.instance_id)
             .where(HumanTask.id.in_(ids)))
    return [_Found(*row) for row in session.execute(query)]


def _matches(found: _Found, user: User, lanes: list[str], filters: WorklistFilters, now: datetime) -> bool:
    """The worklist's conditions (see :func:`_conditions`) for a task already read."""
    task = found.task
    due = getattr(task, "due_at", None)
    return (task.status == "open" and task.lane in lanes and task.claimed_by == user.username
            and (not filters.step or task.task_name == filters.step)
            and (not filters.permit_type or task.process_id == filters.permit_type)
            and (not filters.overdue or _due is None or (due is not None and due < now)))


def worklist(session: Session, user: User, filters: WorklistFilters, page: PageRequest, *,
             now: datetime, lanes_shown: Collection[str] | None = None) -> WorklistPage:
    """The open tasks of the user's lanes (or of ``lanes_shown``: a manager's read-only view of
    every lane), most urgent first (by due time, then the oldest of those without one), filtered,
    one page at a time (keyset: ``page.after`` is the previous page's ``next_after``)."""
    lanes = sorted(user.lane_names if lanes_shown is None else lanes_shown)
    size = max(1, min(page.size, MAX_PAGE_SIZE))
    after = decode_cursor(page.after)
    if not lanes:
        return WorklistPage([], None, 0, False, _due is not None)
    conditions = _conditions(user, filters, now)
    if filters.claim == "mine":
        # The few tasks one officer holds: found through the claimed_by index first (a query with
        # no other condition a planner could prefer), then read by primary key and ordered here.
        held = list(session.scalars(select(HumanTask.id).where(HumanTask.claimed_by == user.username)
                                    .limit(MAX_HELD)))
        every = sorted((f for f in (_held_rows(session, held) if held else [])
                        if _matches(f, user, lanes, filters, now)), key=_sort_key)
        candidates = [f for f in every if after is None or _sort_key(f) > after][:size + 1]
        counted = len(every)
    else:
        # One index walk per lane, each already in order, merged here.
        per_lane = [_lane_rows(session, [*conditions, HumanTask.lane == lane], after, size + 1, filters.overdue)
                    for lane in lanes]
        candidates = list(heapq.merge(*per_lane, key=_sort_key))[:size + 1]
        counting = select(HumanTask.id).where(*conditions, HumanTask.lane.in_(lanes))
        counted = session.scalar(select(func.count()).select_from(counting.limit(COUNT_CAP + 1).subquery())) or 0
    shown = candidates[:size]
    next_after = encode_cursor(_sort_key(shown[-1])) if len(candidates) > size else None
    return WorklistPage(_describe_rows(session, user, shown, now), next_after, min(counted, COUNT_CAP),
                        counted > COUNT_CAP, _due is not None)


def _describe_rows(session: Session, user: User, page: list[_Found], now: datetime) -> list[WorklistRow]:
    """Permit type, claimant names and segregation for a page of tasks: a few keyed queries,
    never the instances' serialised state."""
    if not page:
        return []
    definitions = {row.id: row for row in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.name, ProcessDefinition.user_tasks)
        .where(ProcessDefinition.id.in_({f.definition_id for f in page})))}
    holders = {f.task.claimed_by for f in page if f.task.claimed_by}
    names = {row[0]: row[1] for row in session.execute(
        select(User.username, User.full_name).where(User.username.in_(holders)))} if holders else {}

    # Segregation of duties: which of these steps exclude this user, in one query.
    excluding: dict[int, list[str]] = {}
    for f in page:
        definition = definitions.get(f.definition_id)
        excluding[f.task.id] = separated_steps(definition.user_tasks or {}, f.task.task_name) if definition else []
    done: set[tuple[int, str]] = set()
    wanted = {name for steps in excluding.values() for name in steps}
    if wanted:
        done = {(row[0], row[1]) for row in session.execute(select(HumanTask.instance_id, HumanTask.task_name).where(
            HumanTask.instance_id.in_({f.task.instance_id for f in page if excluding[f.task.id]}),
            HumanTask.status == "completed", HumanTask.completed_by == user.username,
            HumanTask.task_name.in_(wanted)))}

    rows = []
    for f in page:
        t = f.task
        definition = definitions.get(f.definition_id)
        user_tasks = (definition.user_tasks if definition else None) or {}
        due = getattr(t, "due_at", None)
        rows.append(WorklistRow(
            task=t, file_number=f.file_number, applicant=f.applicant,
            permit_type=definition.name if definition else "", step=t.title, age=now - t.created_at, due_at=due,
            time_left=(due - now) if due is not None else None, overdue=due is not None and due < now,
            sla_state=getattr(t, "sla_state", None), claimed_by=t.claimed_by,
            claimed_by_name=names.get(t.claimed_by or "", t.claimed_by), mine=t.claimed_by == user.username,
            not_allowed=[_step_title(user_tasks, n) for n in excluding[t.id] if (t.instance_id, n) in done],
        ))
    return rows


# ---------------------------------------------------------------------------
# The task page
@dataclass
class HistoryEntry:
    at: datetime
    kind: str
    step: str | None
    actor: str
    actor_name: str
    form: str | None  # the form of the completed step, to label its data
    data: dict[str, Any]


@dataclass
class TaskDetails:
    task: HumanTask
    file_number: str | None
    applicant: str | None
    permit_type: str
    claimed_by_name: str | None
    not_allowed: list[str]
    history: list[HistoryEntry]


def task_details(session: Session, task: HumanTask, user: User) -> TaskDetails:
    """What the task page shows besides the form: the file, who holds the task, and the file's history."""
    instance = task.instance
    user_tasks = instance.definition.user_tasks or {}
    file = session.execute(select(ApplicationFile.file_number, ApplicationFile.applicant_name)
                           .where(ApplicationFile.instance_id == instance.id).limit(1)).first()
    events = list(session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                  .order_by(InstanceEvent.at, InstanceEvent.id)))
    actors = {e.actor for e in events} | ({task.claimed_by} if task.claimed_by else set())
    names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(actors)))
                 .all()) if actors else {}
    history = []
    for event in events:
        info = user_tasks.get(event.task_name or "") or {}
        detail = event.detail or {}
        data = detail.get("data") if event.kind == "task_completed" else None
        history.append(HistoryEntry(
            at=event.at, kind=event.kind, step=(info.get("title") or event.task_name) if event.task_name else None,
            actor=event.actor, actor_name=names.get(event.actor, event.actor), form=info.get("form"),
            data=data if isinstance(data, dict) else {}))
    conflicts = separation_conflicts(session, task, user) if task.status == "open" else []
    return TaskDetails(task=task, file_number=file.file_number if file else None,
                       applicant=file.applicant_name if file else None, permit_type=instance.definition.name,
                       claimed_by_name=names.get(task.claimed_by, task.claimed_by) if task.claimed_by else None,
                       not_allowed=conflicts, history=history)
