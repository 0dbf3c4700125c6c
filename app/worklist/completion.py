"""The write path of human tasks: claim, release and complete (from JSON or from a browser form
with its uploads).

Claims and completions take the task row with one conditional ``UPDATE`` (``WHERE
claimed_by IS NULL`` / ``status = 'open'``) and check its row count, so when two
officers act at the same moment exactly one wins and the other is told why
(the rules themselves are in rules.py).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from app import catalogue
from app.auth.models import User
from app.config import Settings
from app.engine.errors import ConcurrentUpdate, NotFound, TaskAlreadyDone
from app.engine.models import HumanTask, TaskStatus, open_task
from app.engine.runtime import Runtime
from app.errors import Invalid
from app.files.models import ApplicationFile, Attachment
from app.files.storage import UploadRefused, attachment_reference, check_upload, store_upload
from app.forms.registry import FieldError, FormRegistry
from app.forms.values import attachments_in, parse_submission
from app.i18n import N_, gettext
from app.permits.services import PermitIssuer, validity_problems
from app.worklist.rules import (
    ClaimedByOther,
    NotClaimed,
    NotYourLane,
    ReleaseRefused,
    done_message,
    ensure_may_work_on,
    get_task_for,
    may_release_any,
)


class FormInvalid(Invalid):
    """Data that does not fit the task's form; ``errors`` has every field's error."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or '(form)'}: {e.message}" for e in errors))


class SubmissionInvalid(FormInvalid):
    """A browser form with errors; ``refused`` are its uploads refused, by field path."""

    def __init__(self, errors: list[FieldError], refused: dict[str, UploadRefused]) -> None:
        self.refused = refused
        super().__init__([FieldError(path, str(error)) for path, error in refused.items()] + errors)


# ---------------------------------------------------------------------------
# Claiming
def claim_task(session: Session, task_id: int, user: User, now: datetime) -> HumanTask:
    """Claim an open task of one of the user's lanes: from now on only they can complete it.

    Claiming a task one already holds changes nothing. Raises NotFound, NotYourLane,
    TaskAlreadyDone, ClaimedByOther or DutiesSeparated; in each case nothing is changed.
    Of two officers claiming at the same moment exactly one wins (a conditional update).
    """
    task = get_task_for(session, task_id, user)
    if task.status == TaskStatus.OPEN and task.claimed_by == user.username:
        return task
    ensure_may_work_on(session, task, user)
    claimed = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, open_task(), HumanTask.claimed_by.is_(None))
        .values(claimed_by=user.username, claimed_at=now)
        .execution_options(synchronize_session=False))
    session.refresh(task, ["status", "claimed_by", "claimed_at", "completed_by"])
    if _rowcount(claimed) != 1 and task.claimed_by != user.username:
        if task.status != TaskStatus.OPEN:
            raise TaskAlreadyDone(done_message(task))
        raise ClaimedByOther(task, task.claimed_by or "?")
    return task


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
    if task.status != TaskStatus.OPEN:
        raise TaskAlreadyDone(done_message(task))
    holder = task.claimed_by
    if holder is None:
        raise NotClaimed(f"task {task.title!r} is not claimed by anyone")
    if holder != user.username and not supervisor:
        raise ReleaseRefused(f"task {task.title!r} is claimed by {holder!r}; only they, a member of the head lane "
                             "or a manager can release it")
    released = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, open_task(), HumanTask.claimed_by == holder)
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
        .where(HumanTask.id == task.id, open_task(),
               or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == user.username))
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(task, ["status", "claimed_by", "claimed_at", "completed_by"])
    if _rowcount(held) != 1:
        if task.status != TaskStatus.OPEN:
            raise TaskAlreadyDone(done_message(task))
        raise ClaimedByOther(task, task.claimed_by or "?")


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
                                  str(item.get("document_type") or N_("lainnya"))[:50], user.username,
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

