"""The front desk's intake, the printable receipt, and the file page."""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.lanes import LANES
from app.auth.security import client_address, permission_required
from app.container import container
from app.db import after_commit, commit_before_streaming, request_session
from app.engine.models import InstanceStatus, TaskStatus
from app.files.intake import (
    IntakeInvalid,
    initial_data,
    intake_for,
    intake_options,
    permit_intake,
    read_submission,
    receipt,
    redisplay_data,
    register_application,
    reissue_tracking_pin,
)
from app.files.kept_uploads import discard_kept_uploads, keep_upload, restore_kept_uploads
from app.files.models import ApplicationFile
from app.files.nik import mask_nik
from app.files.services import (
    STATUS_WORDS,
    diagram_marks,
    file_attachments,
    file_timeline,
    get_attachment,
    get_file,
    may_read_files,
    promised_working_days,
)
from app.files.storage import attachment_path
from app.forms.check import FormBroken
from app.forms.render import Field, build_fields, error_items
from app.i18n import N_, gettext
from app.privacy.services import may_see_nik, record_access
from app.sla.promise import promise_of
from app.web.nav import add_nav

log = logging.getLogger(__name__)
bp = Blueprint("files", __name__)
F = TypeVar("F", bound=Callable[..., Any])
INTAKE_LANE = "front_office"
RECEIPT_PIN_KEY = "receipt_pin"


add_nav("files.intake", N_("Pendaftaran"),
        lambda user: user is not None and INTAKE_LANE in getattr(user, "lane_names", set()), order=15)


_front_office_required = permission_required(lambda user: INTAKE_LANE in user.lane_names)


_file_reader_required = permission_required(may_read_files)


def _file(file_number: str) -> ApplicationFile:
    return get_file(request_session(), file_number)


# -- intake ---------------------------------------------------------------------------
@bp.route("/intake", methods=["GET", "POST"])
@_front_office_required
def intake() -> ResponseReturnValue:
    db = request_session()
    c = container()
    options = intake_options(db)
    if not options:
        return render_template("files/intake.html", options=[], fields=[], errors={}), 200
    target = intake_for(db, request.values.get("permit_type") or options[0][0].process_id)
    chosen, definition, form_name = target
    try:
        schema = c.forms.schema(form_name)
    except FormBroken as broken:  # the form check refused this permit type's form: say so, never a 500
        message = gettext("Formulir pendaftaran {form} tidak dapat dipakai: {reason}", form=form_name, reason=str(broken))
        return render_template("files/intake.html", options=options, chosen=chosen, definition=definition, fields=[],
                               errors={"": message}, uploads_dropped=False, error_list=[],
                               max_mb=c.settings.max_upload_bytes // (1024 * 1024)), 503
    data, errors, status, uploads_dropped = initial_data(chosen), {}, 200, False
    if request.method == "POST":
        var, secret, officer = c.settings.var_dir, c.settings.secret_key, current_user.username
        restored = restore_kept_uploads(var, secret, officer, request.form, request.files)
        try:
            submission = read_submission(schema, target, request.form, restored.files,
                                         c.settings.max_upload_bytes)
            try:
                registration = register_application(db, c.runtime, c.forms, c.settings, c.calendar, submission,
                                                    current_user._get_current_object(), c.complete_step)
            except IntakeInvalid as invalid:
                db.rollback()
                data = redisplay_data(chosen, submission.data, submission.uploads,
                                      partial(keep_upload, var, secret, officer))
                discard_kept_uploads(var, restored.tokens)  # kept again under new tokens
                errors, status = invalid.errors, 400
                uploads_dropped = any(u.error for u in submission.uploads.values())
            else:
                after_commit(db, partial(discard_kept_uploads, var, list(restored.tokens)))
                session[RECEIPT_PIN_KEY] = {"file": registration.file.file_number, "pin": registration.pin}
                return redirect(url_for("files.receipt_page", file_number=registration.file.file_number))
        finally:
            restored.close()
    fields = _label_document_types(build_fields(schema, data, errors, defaults=not errors), chosen.document_labels)
    return render_template("files/intake.html", options=options, chosen=chosen, definition=definition, fields=fields,
                           errors=errors, uploads_dropped=uploads_dropped, error_list=error_items(fields),
                           max_mb=c.settings.max_upload_bytes // (1024 * 1024)), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    # Raised while the form is read (by the CSRF check, before the view): nothing was received.
    message = gettext("Ukuran seluruh lampiran melebihi {mb} MB; kirim dokumen yang lebih kecil.",
                      mb=container().settings.max_upload_bytes // (1024 * 1024))
    return render_template("files/too_large.html", message=message), 413


def _label_document_types(fields: list[Field], labels: dict[str, str]) -> list[Field]:
    """Document types by their names rather than their codes."""
    for f in fields:
        if f.path.endswith("document_type"):
            f.options = [(value, labels.get(value, label)) for value, label in f.options]
        _label_document_types(f.children, labels)
        for row in f.rows:
            _label_document_types(row, labels)
    return fields


# -- receipt --------------------------------------------------------------------------
@bp.get("/files/<file_number>/receipt")
@_file_reader_required
def receipt_page(file_number: str) -> ResponseReturnValue:
    c = container()
    shown = receipt(request_session(), c.settings, file_number)
    pin = None
    given = session.get(RECEIPT_PIN_KEY)
    if isinstance(given, dict) and given.get("file") == file_number:
        pin = str(given.get("pin"))
        session.pop(RECEIPT_PIN_KEY)  # shown once: a reprint says it was given at registration
    response = make_response(render_template(
        "files/receipt.html", r=shown, pin=pin, masked_nik=mask_nik(shown.file.applicant_nik),
        promise=promise_of(shown.file, c.office_calendar, c.settings, c.clock.now()),
        office_name=c.settings.office_name, printed_at=c.clock.now(),
        track_url=url_for("public.track", _external=True)))
    response.headers["Cache-Control"] = "no-store"  # the PIN must not stay in any cache
    return response


@bp.post("/files/<file_number>/pin")
@_front_office_required
def reissue_pin(file_number: str) -> ResponseReturnValue:
    """The front desk gives a new tracking PIN (the old one stops working) and prints it on a receipt."""
    file, pin = reissue_tracking_pin(request_session(), file_number, current_user._get_current_object(),
                                     container().clock.now(), container().settings.secret_key)
    session[RECEIPT_PIN_KEY] = {"file": file.file_number, "pin": pin}
    return redirect(url_for("files.receipt_page", file_number=file.file_number))


# -- the file page --------------------------------------------------------------------


@bp.get("/files/<file_number>")
@_file_reader_required
def show(file_number: str) -> ResponseReturnValue:
    return _file_page(file_number, show_nik=False)


@bp.post("/files/<file_number>/nik")
@_file_reader_required
def show_nik(file_number: str) -> ResponseReturnValue:
    """The explicit, logged "show NIK" action, for an officer whose open step on the file needs it."""
    file = _file(file_number)
    if not may_see_nik(request_session(), current_user, file):
        abort(403)
    return _file_page(file_number, show_nik=True)


def _file_page(file_number: str, show_nik: bool) -> ResponseReturnValue:
    db = request_session()
    c = container()
    file = _file(file_number)
    record_access(db, current_user.username, [file.id], "nik" if show_nik else "file_page", client_address(),
                  c.clock.now())
    timeline = file_timeline(db, file)
    instance = file.instance
    now = c.clock.now()
    promise = promise_of(file, c.office_calendar, c.settings, now)
    days_left = None
    if promise.date is not None and instance is not None and instance.status == InstanceStatus.RUNNING:
        days_left = c.calendar.working_days_between(c.calendar.local_date(now), promise.date)
    marks = diagram_marks(db, file)
    return render_template(
        "files/file.html", file=file, instance=instance, timeline=timeline,
        current=[e for e in timeline if e.kind == "task" and e.status == TaskStatus.OPEN],
        attachments=file_attachments(db, file), marks={"done": marks.done, "current": marks.current},
        days_left=days_left, now=now, promise=promise, masked_nik=mask_nik(file.applicant_nik),
        full_nik=file.applicant_nik if show_nik else None, may_show_nik=may_see_nik(db, current_user, file),
        status_word=STATUS_WORDS.get(instance.status if instance else "", ""), lanes=LANES,
        document_labels=permit.document_labels if (permit := permit_intake(file.process_id)) else {},
        working_days=promised_working_days(file.process_id, c.settings))


@bp.get("/files/<file_number>/diagram.xml")
@_file_reader_required
def diagram(file_number: str) -> ResponseReturnValue:
    file = _file(file_number)
    if file.instance is None:
        abort(404)
    response = Response(file.instance.definition.bpmn_xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, no-cache"  # moving the file to a new version changes it
    return response


@bp.get("/files/<file_number>/attachments/<int:attachment_id>")
@_file_reader_required
def download(file_number: str, attachment_id: int) -> ResponseReturnValue:
    file = _file(file_number)
    attachment = get_attachment(request_session(), file, attachment_id)
    if attachment.removed_at is not None:  # removed by the retention policy (ptsp retention)
        abort(410)
    record_access(request_session(), current_user.username, [file.id], "attachment", client_address(),
                  container().clock.now(), f"{attachment.id} {attachment.document_type}")
    # The one view that commits itself: the document is streamed from disk (the boundary commits no
    # streamed response), and who read an identity document must be on record before its bytes leave.
    commit_before_streaming()
    path = attachment_path(container().settings.var_dir, attachment)
    if not path.is_file():
        log.error("document %s of file %s is missing from storage (%s)", attachment.id, file_number, path)
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # identity documents
    return response
