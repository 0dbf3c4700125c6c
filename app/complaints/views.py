"""Complaints: the public form and status page, and the managers' page where they answer."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.security import client_address, role_required
from app.complaints.models import CATEGORIES, CATEGORY_LABELS, ComplaintStatus
from app.complaints.services import (
    ANSWERERS,
    ComplaintForm,
    ComplaintInvalid,
    WrongFileOrPin,
    answer_complaint,
    complaints_of_file,
    find_file,
    recent_complaints,
    submit_complaint,
)
from app.complaints.webforms import AnswerForm, ComplaintStatusForm, ComplaintWebForm
from app.container import container
from app.db import after_commit, request_session
from app.i18n import gettext
from app.ratelimit import Limit
from app.web.nav import add_nav

bp = Blueprint("complaints", __name__)


add_nav("complaints.new", "Sampaikan pengaduan", lambda user: user is None, order=96)
add_nav("complaints.index", "Pengaduan", lambda user: user is not None and user.role in ANSWERERS, order=60)

MAX_GUESSES = 10
MAX_COMPLAINTS_PER_DAY = 5



def _guesses() -> Limit:
    return container().rate_limits.limit("complaint", MAX_GUESSES, timedelta(minutes=15))


def _sent() -> Limit:
    # Every accepted complaint counts: at most a few a day per address and per file.
    return container().rate_limits.limit("complaint-sent", MAX_COMPLAINTS_PER_DAY, timedelta(days=1))


def _render_new(form: ComplaintForm | None = None, errors: dict[str, str] | None = None, error: str | None = None,
                status: int = 200) -> ResponseReturnValue:
    shown = ComplaintForm(form.file_number, "", form.category, form.message, form.contact_name, form.contact) if form else None
    return render_template("complaints/new.html", form=shown, errors={k: gettext(v) for k, v in (errors or {}).items()},
                           error=error, categories=CATEGORIES, labels=CATEGORY_LABELS), status


@bp.route("/complaints/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_new()
    db = request_session()
    web_form = ComplaintWebForm(request.form)
    form = web_form.complaint()
    subject = form.file_number
    if _guesses().refused(client_address(), subject):
        return _render_new(form, error=gettext("Terlalu banyak percobaan. Coba lagi dalam 15 menit."), status=429)
    if _sent().refused(client_address(), subject):
        return _render_new(form, error=gettext("Terlalu banyak pengaduan dalam waktu singkat. Coba lagi besok."), status=429)
    if not web_form.validate():
        return _render_new(form, errors=web_form.errors_by_field(),
                           error=gettext("Periksa isian yang ditandai; pengaduan belum dikirim."), status=400)
    try:
        complaint = submit_complaint(db, container().clock, form, container().settings.secret_key)
    except ComplaintInvalid as invalid:
        db.rollback()
        return _render_new(form, errors=invalid.errors, error=gettext("Periksa isian yang ditandai; pengaduan belum dikirim."),
                           status=400)
    except WrongFileOrPin:
        db.rollback()
        _guesses().hit(client_address(), subject)
        return _render_new(form, error=gettext("Nomor berkas atau PIN salah."))
    address = client_address()
    after_commit(db, lambda: _sent().hit(address, subject))  # once stored: a complaint that failed to save does not count
    return render_template("complaints/sent.html", complaint=complaint), 201


@bp.route("/complaints/status", methods=["GET", "POST"])
def status() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("complaints/status.html", complaints=None, error=None, labels=CATEGORY_LABELS)
    db = request_session()
    form = ComplaintStatusForm(request.form)
    number = form.file_number.data
    if _guesses().refused(client_address(), number):
        return render_template("complaints/status.html", complaints=None, labels=CATEGORY_LABELS,
                               error=gettext("Terlalu banyak percobaan. Coba lagi dalam 15 menit.")), 429
    try:
        file = find_file(db, number, form.pin.data, container().settings.secret_key)
    except WrongFileOrPin:
        _guesses().hit(client_address(), number)
        return render_template("complaints/status.html", complaints=None, labels=CATEGORY_LABELS,
                               error=gettext("Nomor berkas atau PIN salah."))
    return (render_template("complaints/status.html", complaints=complaints_of_file(db, file), file=file, error=None,
                            labels=CATEGORY_LABELS), 200, {"Cache-Control": "no-store"})


@bp.get("/complaints")
@role_required(*ANSWERERS)
def index() -> ResponseReturnValue:
    return render_template("complaints/index.html", ComplaintStatus=ComplaintStatus,
                           complaints=recent_complaints(request_session()), labels=CATEGORY_LABELS)


@bp.post("/complaints/<int:complaint_id>/answer")
@role_required(*ANSWERERS)
def answer(complaint_id: int) -> ResponseReturnValue:
    db = request_session()
    form = AnswerForm(request.form)
    try:
        if not form.validate():
            raise ComplaintInvalid({"answer": str(form.answer.errors[0])})
        answer_complaint(db, complaint_id, current_user._get_current_object(), form.answer.data, container().clock)
    except ComplaintInvalid as invalid:
        db.rollback()
        flash(gettext(invalid.errors["answer"]), "error")
        return redirect(url_for("complaints.index") + f"#complaint-{complaint_id}")
    flash(gettext("Jawaban disimpan dan dapat dilihat pemohon."), "ok")
    return redirect(url_for("complaints.index"))
