"""The inbox of escalation notices, and what administrators watch: deliveries that
failed for good, the office calendar, and which manager answers for what."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.lanes import LANES
from app.auth.models import User
from app.auth.security import login_required, role_required
from app.auth.services import active_users_in_lane, find_user
from app.auth.services import managers as office_managers
from app.complaints.models import CATEGORY_LABELS
from app.container import container
from app.db import after_commit, request_session
from app.errors import DomainError
from app.i18n import N_, fmt_number, gettext
from app.notify.services import (
    InvalidReassignment,
    acknowledge,
    failed_deliveries,
    inbox_for,
    open_tasks_by_id,
    reassign_task,
    retry_delivery,
)
from app.notify.webforms import CalendarDayForm, ReassignForm, ResponsibilityForm
from app.sla.hours import working_time_between
from app.sla.services import (
    add_holiday,
    assign_manager,
    clear_calendar_day,
    list_calendar_days,
    list_responsibilities,
    remove_holiday,
    responsibility_coverage,
    unassign_manager,
)
from app.web.nav import add_admin_page, add_nav

bp = Blueprint("inbox", __name__)

add_nav("inbox.index", "Kotak masuk", lambda user: user is not None, order=40)
add_admin_page("inbox.calendar", "Kalender kerja", order=91)
add_admin_page("inbox.deliveries", "Pengiriman gagal", order=92)
add_admin_page("inbox.responsibilities", "Tanggung jawab manajer", order=93)

LEVELS = {"warning": N_("Peringatan"), "critical": N_("Kritis"), "breached": N_("Melewati batas waktu"), "complaint": "Pengaduan",
          "integrity": N_("Integritas catatan")}


def time_left_text(detail: dict[str, Any]) -> str:
    """The time left to a notice's deadline, now: working days, or working hours when under a day;
    never "-0"."""
    c = container()
    due = detail.get("due_at")
    if not due:
        return "\u2013"
    try:
        due_at = datetime.fromisoformat(str(due))
    except ValueError:
        return "\u2013"
    hours = c.office_calendar.hours
    left = working_time_between(c.calendar, hours, c.clock.now(), due_at)
    days = abs(left) / hours.day_length
    late = left < timedelta(0)
    if days >= 1:
        n = fmt_number(days, 1)
        return gettext("terlambat {n} hari kerja", n=n) if late else gettext("sisa {n} hari kerja", n=n)
    whole_hours = max(1, math.ceil(abs(left).total_seconds() / 3600)) if left else 0
    if whole_hours == 0:  # no working time between (e.g. the office is closed)
        return gettext("lewat batas waktu") if c.clock.now() > due_at else gettext("jatuh tempo sekarang")
    return gettext("terlambat {n} jam kerja", n=whole_hours) if late else gettext("sisa {n} jam kerja", n=whole_hours)


@bp.get("/inbox")
@login_required
def index() -> ResponseReturnValue:
    db = request_session()
    show_all = request.args.get("all") == "1"
    notices = inbox_for(db, current_user, include_acknowledged=show_all)
    task_ids = [n.human_task_id for n in notices if n.human_task_id]
    open_tasks = open_tasks_by_id(db, task_ids)
    lane_officers: dict[str, list[User]] = {}
    if current_user.role in ("manager", "admin"):
        for lane in {t.lane for t in open_tasks.values()}:
            lane_officers[lane] = active_users_in_lane(db, lane)
    return render_template("inbox/index.html", notices=notices, open_tasks=open_tasks, levels=LEVELS,
                           categories=CATEGORY_LABELS, lane_officers=lane_officers, show_all=show_all,
                           time_left=time_left_text)


@bp.post("/inbox/<int:notice_id>/acknowledge")
@login_required
def acknowledge_notice(notice_id: int) -> ResponseReturnValue:
    acknowledge(request_session(), notice_id, current_user, container().clock)  # 404 / 403: the error handlers
    flash(gettext("Pemberitahuan ditindaklanjuti."), "success")
    # Still in view, with its reassign control at hand (the default inbox lists only what is not acted on).
    return redirect(url_for("inbox.index", all="1", _anchor=f"notice-{notice_id}"))


@bp.post("/inbox/tasks/<int:task_id>/reassign")
@role_required("manager", "admin")
def reassign(task_id: int) -> ResponseReturnValue:
    db = request_session()
    form = ReassignForm(request.form)
    to_user = find_user(db, form.username.data) if form.validate() else None
    if to_user is None:
        abort(400)
    try:
        reassign_task(db, task_id, to_user, current_user, container().clock)
    except InvalidReassignment as exc:  # said on the inbox; a lost race (409), 403 and 404 are the error handlers'
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("inbox.index"))
    flash(gettext("Tahap dialihkan ke {who}.", who=to_user.full_name), "success")
    return redirect(url_for("inbox.index"))


@bp.route("/admin/calendar", methods=["GET", "POST"])
@role_required("admin")
def calendar() -> ResponseReturnValue:
    db = request_session()
    c = container()
    error = None
    if request.method == "POST":
        form = CalendarDayForm(request.form)
        try:
            if not form.validate():
                if form.action.errors:
                    abort(400)
                raise ValueError(" ".join(gettext(str(messages[0])) for messages in form.errors.values()))
            day, action, reason = form.day_date, form.action.data, form.reason.data
            if action == "add":
                add_holiday(db, day, reason, current_user.username, c.clock)
            elif action == "remove":
                remove_holiday(db, day, reason, current_user.username, c.clock)
            else:
                clear_calendar_day(db, day, c.clock)
            # this process at once once committed; the others within their refresh interval
            after_commit(db, c.office_calendar.invalidate)
        except (ValueError, DomainError) as exc:
            db.rollback()
            error = exc.user_message() if isinstance(exc, DomainError) else str(exc)
        else:
            flash(gettext("Kalender disimpan."), "success")
            return redirect(url_for("inbox.calendar", year=day.year))
    year = request.args.get("year", type=int) or c.calendar.local_date(c.clock.now()).year
    holidays = c.calendar.holidays_in_year(year)
    return render_template("admin/calendar.html", year=year, days=list_calendar_days(db, year), holidays=holidays,
                           error=error, entered=request.form if error else {}), (400 if error else 200)


@bp.get("/admin/deliveries")
@role_required("admin")
def deliveries() -> ResponseReturnValue:
    return render_template("admin/deliveries.html", deliveries=failed_deliveries(request_session()))


@bp.post("/admin/deliveries/<int:delivery_id>/retry")
@role_required("admin")
def retry(delivery_id: int) -> ResponseReturnValue:
    c = container()
    try:
        retry_delivery(request_session(), delivery_id, c.clock, timedelta(seconds=c.settings.notify_requeue_seconds))
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("inbox.deliveries"))
    flash(gettext("Dikirim ulang."), "success")
    return redirect(url_for("inbox.deliveries"))


@bp.route("/admin/responsibilities", methods=["GET", "POST"])
@role_required("admin")
def responsibilities() -> ResponseReturnValue:
    db = request_session()
    c = container()
    error = None
    if request.method == "POST":
        form = ResponsibilityForm(request.form)
        valid = form.validate()
        user = find_user(db, form.username.data) if valid else None
        process_id, lane = form.process_id.data, form.lane.data
        try:
            if user is None:
                raise ValueError(gettext("Pilih manajer dan jalur tugas yang tersedia."))
            if form.action.data == "unassign":
                unassign_manager(db, user, process_id, lane)
            else:
                assign_manager(db, user, process_id, lane, current_user.username, c.clock)
        except (ValueError, DomainError) as exc:
            db.rollback()
            error = exc.user_message() if isinstance(exc, DomainError) else str(exc)
        else:
            flash(gettext("Tanggung jawab disimpan."), "success")
            return redirect(url_for("inbox.responsibilities"))
    from app.engine.definitions import list_definitions

    managers = office_managers(db)
    processes = [d for d, _ in list_definitions(db)]
    coverage = responsibility_coverage(db, [d.process_id for d in processes], list(LANES))
    return render_template("admin/responsibilities.html", rows=list_responsibilities(db), managers=managers,
                           processes=processes, lanes=LANES, error=error, coverage=coverage,
                           process_names={d.process_id: d.name for d in processes}), (
        400 if error else 200)

