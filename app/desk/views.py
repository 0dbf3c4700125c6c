"""/dashboard: the office at a glance for managers and the head of office (administrators read it)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.lanes import LANES
from app.auth.security import permission_required, request_session
from app.container import container
from app.desk.services import dashboard, may_order_reports, may_view_dashboard, month_of
from app.i18n import current_language, gettext, register
from app.skm.services import period_index
from app.skm.views import element_label
from app.sla import policy
from app.web.nav import add_nav

bp = Blueprint("desk", __name__)

STATE_LABELS = {policy.ON_TRACK: "Sesuai jadwal", policy.WARNING: "Peringatan", policy.CRITICAL: "Kritis",
                policy.BREACHED: "Melewati batas"}

register({
    "Dasbor": "Dashboard",
    "Dasbor kantor": "Office dashboard",
    "Dari tanggal": "From",
    "Sampai tanggal": "To",
    "Semua jenis izin": "All permit types",
    "Tampilkan": "Show",
    "Tanggal tidak valid.": "Not a valid date.",
    "Tanggal akhir sebelum tanggal awal.": "The end date is before the start date.",
    "Jenis izin tidak dikenal.": "Unknown permit type.",
    "Berkas diterima": "Files received",
    "Berkas selesai": "Files finished",
    "Tepat waktu": "On time",
    "selesai dalam batas waktu hari kerja menurut jam SLA (jeda menunggu pemohon tidak dihitung)":
        "finished within the legal limit in working days, as the SLA clock counts (time waiting on the applicant excluded)",
    "Berkas berjalan menurut status SLA": "Open files by SLA state",
    "Sesuai jadwal": "On track",
    "Peringatan": "Warning",
    "Kritis": "Critical",
    "Melewati batas": "Breached",
    "Lama proses (hari kerja)": "Processing time (working days)",
    "Prosedur": "Procedure",
    "Langkah": "Step",
    "Banyaknya": "Count",
    "Median": "Median",
    "Persentil 90": "90th percentile",
    "Terlambat": "Overdue",
    "Langkah paling lambat": "Slowest steps",
    "Beban kerja per jalur": "Workload per lane",
    "Beban kerja per petugas": "Workload per officer",
    "Jalur": "Lane",
    "Petugas": "Officer",
    "Terbuka": "Open",
    "Diklaim": "Claimed",
    "Selesai pada periode": "Completed in period",
    "Retribusi per jenis izin": "Fees per permit type",
    "Ditetapkan": "Assessed",
    "Dibayar": "Paid",
    "Pengaduan": "Complaints",
    "Belum dijawab": "Open",
    "Dijawab pada periode": "Answered in period",
    "Median waktu menjawab (hari kerja)": "Median time to answer (working days)",
    "Survei kepuasan (IKM) pada periode": "Satisfaction (IKM) in the period",
    "Belum ada data pada periode ini.": "No data for this period.",
    "Angka riwayat diperbarui setiap menit.": "History figures are updated every minute.",
})

add_nav("desk.index", "Dasbor", may_view_dashboard, order=15)


def _lane_label(lane: str) -> str:
    label = LANES.get(lane)
    return label.get(current_language(), label["id"]) if label else lane


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
    status = 400 if errors else 200
    return render_template("desk/dashboard.html", board=board, skm=skm, errors=errors, titles=titles,
                           states=policy.STATES, state_labels=STATE_LABELS, lane_label=_lane_label,
                           element_label=element_label, may_order=may_order_reports(current_user),
                           args=request.args), status
