"""The officer's workspace: the worklist, claiming, and the task page with its form."""
from __future__ import annotations

import logging
from functools import partial
from typing import Any, cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.lanes import LANES
from app.auth.models import User
from app.auth.security import client_address, login_required, officer_required, permission_required
from app.auth.services import full_name_of
from app.container import container
from app.db import after_commit, keep_on_error, request_session
from app.engine.errors import ConcurrentUpdate, InstanceNotRunning, NotFound, TaskAlreadyDone, TaskNotReady
from app.engine.models import HumanTask, TaskStatus
from app.errors import DomainError
from app.files.kept_uploads import discard_kept_uploads, keep_upload, restore_kept_uploads
from app.files.storage import UploadRefused
from app.forms.check import FormBroken
from app.forms.registry import FieldError, FormNotFound
from app.forms.render import build_fields, error_items, field_paths, place_errors, read_only_items
from app.forms.values import prefill
from app.i18n import N_, current_language, fmt_datetime, gettext
from app.privacy.services import masked, record_access_by_numbers, step_needs_nik
from app.sla.promise import promise_of
from app.web.nav import add_nav
from app.web.redirects import safe_next
from app.worklist.completion import (
    FormInvalid,
    SubmissionInvalid,
    claim_task,
    complete_task_submission,
    read_task_submission,
    redisplay_data,
    release_task,
)
from app.worklist.context import step_context
from app.worklist.queries import (
    CLAIM_FILTERS,
    PageRequest,
    WorklistFilters,
    file_number_of,
    files_of_tasks,
    task_by_id,
    task_details,
    worklist,
    worklist_options,
)
from app.worklist.rules import ClaimedByOther, DutiesSeparated, NotClaimed, NotYourLane, ReleaseRefused, get_task_for

bp = Blueprint("worklist", __name__)
log = logging.getLogger(__name__)


# Managers and administrators answer for every lane: they read the worklist without working it.
OVERSEER_ROLES = ("manager", "admin")
add_nav("worklist.index", "Daftar tugas",
        lambda user: user is not None and (bool(user.lane_names) or user.has_role(*OVERSEER_ROLES)), order=10)

PAGE_SIZE = 50
EVENT_LABELS = {
    "started": N_("Berkas dibuka"),
    "task_completed": N_("Langkah selesai"),
    "timer_fired": N_("Batas waktu tercapai"),
    "error": N_("Kesalahan proses"),
    "retried": N_("Diulang"),
    "completed": N_("Proses selesai"),
}


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _lane_label(lane: str) -> str:
    labels = LANES.get(lane)
    return labels.get(current_language(), labels["id"]) if labels else lane


def _person(username: str | None, name: str | None) -> str:
    if username is None:
        return ""
    if username == "system" or username.startswith("system:"):
        return gettext("Sistem")
    if username == current_user.username:
        return gettext("Anda sendiri")
    return name or username


# ---------------------------------------------------------------------------
def _may_see_worklist(user: User) -> bool:
    return bool(user.lane_names) or user.has_role(*OVERSEER_ROLES)


@bp.get("/worklist")
@permission_required(_may_see_worklist)
def index() -> ResponseReturnValue:
    """Officers see their lanes' tasks; managers and administrators in no lane see every lane, read-only."""
    args = request.args
    claim = args.get("claim")
    filters = WorklistFilters(permit_type=args.get("permit_type") or None, step=args.get("step") or None,
                              overdue=args.get("overdue") in ("1", "on"),
                              claim=claim if claim in CLAIM_FILTERS else None)
    db = request_session()
    user = _me()
    read_only = not user.lane_names
    lanes_shown = sorted(LANES) if read_only else None
    page = worklist(db, user, filters, PageRequest(after=args.get("after") or None, size=PAGE_SIZE),
                    now=container().clock.now(), lanes_shown=lanes_shown)
    query = {k: v for k, v in args.items() if k != "after" and v}
    # The list shows applicants' names: logged as a search result view (one statement).
    record_access_by_numbers(db, user.username, [row.file_number for row in page.rows if row.applicant],
                             "search", client_address(), container().clock.now())
    c = container()
    files = files_of_tasks(db, [row.task for row in page.rows])
    promises = {f.instance_id: promise_of(f, c.office_calendar, c.settings, c.clock.now()) for f in files}
    return render_template("worklist/index.html", page=page, filters=filters,
                           options=worklist_options(db, user, lanes_shown), read_only=read_only,
                           query=query, person=_person, lane_label=_lane_label, promises=promises)


@bp.post("/tasks/<int:task_id>/claim")
@officer_required
def claim(task_id: int) -> ResponseReturnValue:
    db = request_session()
    back = safe_next(request.form.get("next"), url_for("worklist.task", task_id=task_id))
    try:
        task = claim_task(db, task_id, _me(), container().clock.now())
    except NotFound:
        abort(404)
    except NotYourLane:
        abort(403)
    except DomainError as exc:
        db.rollback()
        flash(_refusal(exc, task_id), "error")
        return redirect(back)
    number = _file_number_of(task)
    flash(gettext('Tugas "{title}" berkas {number} sekarang Anda pegang.', title=task.title,
                  number=number or "\u2013"), "success")
    return redirect(back)


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int) -> ResponseReturnValue:
    db = request_session()
    back = safe_next(request.form.get("next"), url_for("worklist.index"))
    try:
        task = release_task(db, task_id, _me())
    except NotFound:
        abort(404)
    except NotYourLane:
        abort(403)
    except DomainError as exc:
        db.rollback()
        flash(_refusal(exc, task_id), "error")
        return redirect(back)
    flash(gettext('Tugas "{title}" dilepas kembali ke jalurnya.', title=task.title), "success")
    return redirect(back)


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@officer_required
def task(task_id: int) -> ResponseReturnValue:
    db = request_session()
    c = container()
    user = _me()
    row = get_task_for(db, task_id, user)
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    problem: str | None = None
    status = 200
    try:
        schema = c.forms.schema(row.form) if row.form else {}
    except (FormNotFound, FormBroken) as exc:
        # The form file is missing or fails the form check: say so (nothing is completed), never a 500.
        log.error("task %s: form %s cannot be used: %s", task_id, row.form, exc)
        problem = gettext("Formulir langkah ini ({form}) tidak dapat dipakai: {reason}. Isian tidak dapat "
                          "disimpan; minta perancang proses memperbaikinya (lihat /healthz).",
                          form=row.form, reason=str(exc))
        return _task_page(row, {}, {}, {}, problem, form_broken=True), 503
    if request.method == "POST":
        restored = restore_kept_uploads(c.settings.var_dir, c.settings.secret_key, user.username, request.form,
                                        request.files)
        try:
            submission = read_task_submission(schema, request.form, restored.files, c.settings.max_upload_bytes)
            keep = partial(keep_upload, c.settings.var_dir, c.settings.secret_key, user.username)
            try:
                complete_task_submission(db, c.runtime, c.forms, c.settings, task_id, submission, user)
            except FormInvalid as invalid:
                db.rollback()
                data, errors, status = redisplay_data(submission, keep), _field_errors(invalid.errors), 422
                discard_kept_uploads(c.settings.var_dir, restored.tokens)  # kept again under new tokens
                if isinstance(invalid, SubmissionInvalid):
                    for path, refused in invalid.refused.items():
                        errors[path] = upload_message(refused, c.settings.max_upload_bytes)
            except (NotYourLane, DutiesSeparated) as refused:
                db.rollback()
                problem, status, data = _refusal(refused, task_id), 403, redisplay_data(submission)
            except DomainError as conflict:
                db.rollback()
                problem, status, data = _refusal(conflict, task_id), 409, redisplay_data(submission, keep)
            else:
                number = _file_number_of(row)
                after_commit(db, partial(discard_kept_uploads, c.settings.var_dir, list(restored.tokens)))
                flash(gettext('Tugas "{title}" berkas {number} selesai.', title=row.title,
                              number=number or "\u2013"), "success")
                return redirect(url_for("worklist.index"))
        finally:
            restored.close()
    return _task_page(row, schema, data, errors, problem), status


def _task_page(row: HumanTask, schema: dict[str, Any], data: dict[str, Any], errors: dict[str, str],
               problem: str | None, *, form_broken: bool = False) -> str:
    db = request_session()
    c = container()
    details = task_details(db, row, _me())
    needs_nik = step_needs_nik(row.lane, row.task_name)
    if details.file_number:
        record_access_by_numbers(db, current_user.username, [details.file_number], "task_page", client_address(),
                                 c.clock.now())
        # The page shows the applicant's data even when it answers a refused submission (422/403/409, whose
        # writes were rolled back above): who read it stays on record.
        keep_on_error()
    first_view = not errors and not problem
    if first_view and schema and not data:  # values the office already has: the intake's and earlier steps'
        data = prefill(schema, [entry.data for entry in details.history if entry.data])
    fields = build_fields(schema, data, errors, defaults=first_view) if schema else []
    shown = field_paths(fields)
    loose = [message for path, message in place_errors(errors, shown).items() if path not in shown]  # the whole form's
    history = []
    for entry in details.history:
        items: list[tuple[str, str]] = []
        if entry.data:
            try:
                step_schema = c.forms.schema(entry.form) if entry.form else {}
            except (FormNotFound, FormBroken):
                step_schema = {}
            # The NIK is masked unless this step's work is checking it (app/privacy/services.py).
            items = read_only_items(step_schema, entry.data if needs_nik else masked(entry.data))
        history.append({"at": entry.at, "kind": gettext(EVENT_LABELS.get(entry.kind, entry.kind)), "step": entry.step,
                        "actor": _person(entry.actor, entry.actor_name), "data_items": items})
    holder = None
    if row.claimed_by and row.status == TaskStatus.OPEN:
        holder = gettext("Dipegang oleh {name} sejak {when}.", name=_person(row.claimed_by, details.claimed_by_name),
                         when=fmt_datetime(row.claimed_at))
    now = c.clock.now()
    due = row.due_at  # None for a step with no deadline
    return render_template(
        "worklist/task.html", task=row, details=details, fields=fields, loose_errors=loose, problem=problem,
        error_list=error_items(fields), history=history, holder=holder, lane_label=_lane_label(row.lane), schema=schema,
        due_at=due, form_broken=form_broken, context=step_context(db, c.runtime, c.catalogue, row),
        time_left=(due - now) if due is not None else None,
        may_complete=row.status == TaskStatus.OPEN and not details.not_allowed and not form_broken
        and row.claimed_by in (None, current_user.username),
        held_by_me=row.claimed_by == current_user.username,
        not_allowed=_separated_message(details.not_allowed) if details.not_allowed and row.status == TaskStatus.OPEN else None,
    )


def _field_errors(errors: list[FieldError]) -> dict[str, str]:
    """Errors by the path of the field they are shown beside; an attachment's server-filled
    reference and sha256 are the attachment's own field."""
    shown: dict[str, str] = {}
    for error in errors:
        path = error.field
        head, _, last = path.rpartition("/")
        if head and last in ("reference", "sha256"):
            path = head
        shown.setdefault(path, error.message)
    return shown


def _separated_message(steps: list[str]) -> str:
    return gettext("Pemisahan tugas: Anda sudah mengerjakan {steps} pada berkas ini, jadi langkah ini harus "
                   "dikerjakan petugas lain.", steps=", ".join(f"\u201c{s}\u201d" for s in steps))


def _file_number_of(task: HumanTask) -> str | None:
    return file_number_of(request_session(), task)


def _refusal(exc: Exception, task_id: int) -> str:
    """What an officer is told when a claim, release or completion is refused."""
    task = task_by_id(request_session(), task_id)
    if isinstance(exc, ClaimedByOther):
        return gettext("Tugas ini sedang dipegang oleh {name}. Hanya dia yang dapat menyelesaikan atau melepasnya.",
                       name=_name_of(exc.holder))
    if isinstance(exc, DutiesSeparated):
        return _separated_message(exc.done_titles)
    if isinstance(exc, TaskAlreadyDone):
        if task is not None and task.status == TaskStatus.COMPLETED:
            return gettext("Tugas ini sudah diselesaikan oleh {name} pada {when}. Isian Anda tidak disimpan.",
                           name=_name_of(task.completed_by), when=fmt_datetime(task.completed_at))
        return gettext("Tugas ini sudah ditutup oleh proses. Isian Anda tidak disimpan.")
    if isinstance(exc, ConcurrentUpdate):
        return gettext("Berkas ini diubah petugas lain pada saat yang sama. Isian Anda tidak disimpan; "
                       "muat ulang halaman dan periksa kembali.")
    if isinstance(exc, TaskNotReady):
        return gettext("Langkah ini belum dapat diselesaikan: {detail}", detail=str(exc))
    if isinstance(exc, InstanceNotRunning):
        return gettext("Proses berkas ini tidak sedang berjalan; langkahnya tidak dapat diselesaikan.")
    if isinstance(exc, NotClaimed):
        return gettext("Tugas ini tidak sedang dipegang siapa pun.")
    if isinstance(exc, ReleaseRefused):
        return gettext("Hanya {name}, anggota jalur Kepala Dinas, atau manajer yang dapat melepas tugas ini.",
                       name=_name_of(task.claimed_by if task else None))
    return str(exc)


def _name_of(username: str | None) -> str:
    if not username:
        return "\u2013"
    if username == current_user.username:
        return gettext("Anda sendiri")
    name = full_name_of(request_session(), username)
    return name or username


def upload_message(refused: UploadRefused, max_bytes: int) -> str:
    """An upload refusal in the officer's language."""
    if refused.kind == "size":
        return gettext("Berkas ditolak: lebih besar dari {mb} MB.", mb=max_bytes // (1024 * 1024))
    if refused.kind == "empty":
        return gettext("Berkas ditolak: berkasnya kosong.")
    if refused.kind == "unknown":
        return gettext("Dokumen ini bukan lampiran berkas ini; pilih berkasnya lagi.")
    if refused.kind == "no_file":
        return gettext("Langkah ini tidak terkait berkas permohonan, jadi tidak dapat dilampiri dokumen.")
    return gettext("Berkas ditolak: hanya dokumen PDF, JPEG atau PNG yang diterima.")

