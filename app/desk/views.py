"""/dashboard: the office at a glance for managers and the head of office (administrators read it)."""
from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from app.auth.lanes import LANES
from app.auth.security import permission_required
from app.container import container
from app.db import request_session
from app.desk.charts import bar_chart, ikm_by_quarter, on_time_by_month, received_by_week
from app.desk.models import MonthlyReport, ReportStatus
from app.desk.report import KINDS, ReportInvalid, file_name, recent_reports, report_dir, request_report
from app.desk.services import (
    STATE_LABELS,
    Spread,
    dashboard,
    may_order_reports,
    may_view_dashboard,
    may_view_heat,
    month_of,
    step_heat,
)
from app.desk.webforms import ReportOrderForm
from app.i18n import N_, current_language, fmt_number, gettext
from app.skm.services import format_score, period_index
from app.skm.views import element_label
from app.sla import policy
from app.web.nav import add_nav

bp = Blueprint("desk", __name__)


# New texts of this change (kept apart from the dict above, which the .po conversion moves).

add_nav("desk.index", N_("Dasbor"), may_view_dashboard, order=15)


def _lane_label(lane: str) -> str:
    label = LANES.get(lane)
    return label.get(current_language(), label["id"]) if label else lane


@bp.app_context_processor
def _desk_helpers() -> dict[str, object]:
    return {"may_view_dashboard": may_view_dashboard}


def _date_arg(name: str, default: date, errors: dict[str, str]) -> date:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        errors[name] = gettext("Tanggal tidak valid.")
        return default


@bp.get("/dashboard")
@permission_required(may_view_dashboard)
def index() -> ResponseReturnValue:
    c = container()
    db = request_session()
    now = c.clock.now()
    calendar = c.office_calendar.current(db)
    first, last = month_of(calendar.local_date(now))
    errors: dict[str, str] = {}
    start, end = _date_arg("start", first, errors), _date_arg("end", last, errors)
    if end < start:
        errors["end"] = gettext("Tanggal akhir sebelum tanggal awal.")
        start, end = first, last
    permit_type = (request.args.get("permit_type") or "").strip() or None
    entries = c.catalogue.entries
    if permit_type is not None and permit_type not in entries:
        errors["permit_type"] = gettext("Jenis izin tidak dikenal.")
        permit_type = None
    lang = current_language()
    titles = {key: entry.name.get(lang, entry.name["id"]) for key, entry in entries.items()}
    board = dashboard(db, calendar, c.office_calendar.hours, now, start, end, permit_type, titles)
    skm = period_index(db, start, end, permit_type)
    charts = _charts(db, board.end, permit_type)
    heat_process = _heat_process(request.args.get("heat"), permit_type, board.steps, list(entries))
    recent = recent_reports(db)
    status = 400 if errors else 200
    return render_template("desk/dashboard.html", recent_reports=recent, states_report=REPORT_STATES,
                           report_month=board.start.strftime("%Y-%m"), board=board, skm=skm, errors=errors, titles=titles,
                           states=policy.STATES, state_labels=STATE_LABELS, lane_label=_lane_label,
                           element_label=element_label, may_order=may_order_reports(current_user),
                           charts=charts, heat_process=heat_process, heat_title=titles.get(heat_process, heat_process),
                           heat_xml_url=url_for("catalogue.diagram", process_id=heat_process),
                           heat_url=url_for("desk.heat", process_id=heat_process, start=start.isoformat(),
                                            end=end.isoformat()),
                           heat_steps=[s for s in board.steps if s.key.startswith(f"{heat_process}:")]), status


def _charts(db: Session, until: date, permit_type: str | None) -> list[dict[str, Any]]:
    """The three charts, each with the figures for its table, ending at ``until``."""
    locale = "id_ID" if current_language() == "id" else "en_GB"
    months = on_time_by_month(db, until, permit_type, month_label=lambda d: format_date(d, "MMM yy", locale=locale))
    weeks = received_by_week(db, until, permit_type, week_label=lambda d: format_date(d, "d MMM", locale=locale))
    quarters = ikm_by_quarter(db, until, permit_type)
    top_week = max([p.value or 0 for p in weeks] + [1])
    specs = [
        ("on-time", gettext("Tepat waktu per bulan (%)"), months, 100.0, lambda v: fmt_number(v, 0) + "%"),
        ("received", gettext("Berkas diterima per minggu"), weeks, float(top_week), lambda v: fmt_number(v, 0)),
        ("ikm", gettext("IKM per triwulan"), quarters, 100.0, lambda v: format_score(v, locale)),
    ]
    return [{"id": key, "title": title, "points": points, "fmt": fmt,
             "svg": bar_chart(title, points, top, fmt, f"chart-{key}")} for key, title, points, top, fmt in specs]


def _heat_process(asked: str | None, permit_type: str | None, steps: list[Spread], known: list[str]) -> str:
    """The procedure painted on the dashboard: the one asked for, the filtered one, else the busiest."""
    if asked in known:
        return str(asked)
    if permit_type:
        return permit_type
    busiest: dict[str, int] = {}
    for step in steps:
        process_id = step.key.split(":", 1)[0]
        busiest[process_id] = busiest.get(process_id, 0) + step.count
    return max(busiest, key=lambda p: (busiest[p], p)) if busiest else known[0]


@bp.get("/dashboard/heat/<process_id>.json")
@permission_required(may_view_heat)
def heat(process_id: str) -> ResponseReturnValue:
    """Per step of one procedure over a period (default: the last 90 days): what the heat map paints."""
    c = container()
    if process_id not in c.catalogue.entries:
        abort(404)
    today = c.calendar.local_date(c.clock.now())
    errors: dict[str, str] = {}
    end = _date_arg("end", today, errors)
    start = _date_arg("start", date.fromordinal(end.toordinal() - 89), errors)
    if errors or end < start:
        abort(400)
    steps = step_heat(request_session(), start, end, process_id)
    response = jsonify({"process_id": process_id, "start": start.isoformat(), "end": end.isoformat(), "steps": steps})
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


# -- the monthly report -------------------------------------------------------------------------
REPORT_STATES = {"queued": N_("Menunggu giliran"), "running": N_("Sedang dibuat"), "done": N_("Selesai"), "failed": N_("Gagal")}


@bp.post("/dashboard/reports")
@permission_required(may_order_reports)
def order_report() -> ResponseReturnValue:
    c = container()
    db = request_session()
    form = ReportOrderForm(request.form)
    month = form.month.data
    try:
        if not form.validate():
            raise ReportInvalid(month)
        report = request_report(db, month, current_user.username, c.clock.now())
    except ReportInvalid:
        db.rollback()
        return render_template("desk/report.html", report=None, ReportStatus=ReportStatus, states=REPORT_STATES,
                               kinds=KINDS, month=month, error=gettext("Bulan harus berbentuk TTTT-BB, misalnya 2026-11.")), 400
    return redirect(url_for("desk.report_page", report_id=report.id))


def _report(report_id: int) -> MonthlyReport:
    report = request_session().get(MonthlyReport, report_id)
    if report is None:
        abort(404)
    return report


@bp.get("/dashboard/reports/<int:report_id>")
@permission_required(may_view_dashboard)
def report_page(report_id: int) -> ResponseReturnValue:
    report = _report(report_id)
    response = Response(render_template("desk/report.html", report=report, ReportStatus=ReportStatus,
                                        states=REPORT_STATES, kinds=KINDS, month=report.month, error=None))
    response.headers["Cache-Control"] = "no-store"
    if report.status in (ReportStatus.QUEUED, ReportStatus.RUNNING):
        response.headers["Refresh"] = "2"  # the page follows the worker's progress without a script
    return response


@bp.get("/dashboard/reports/<int:report_id>/<kind>")
@permission_required(may_view_dashboard)
def report_file(report_id: int, kind: str) -> ResponseReturnValue:
    report = _report(report_id)
    if kind not in KINDS or report.status != ReportStatus.DONE:
        abort(404)
    path = report_dir(container(), report.id) / file_name(report.month, kind)
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=KINDS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
