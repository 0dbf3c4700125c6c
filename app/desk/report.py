"""The monthly report for the head of office and the regent: the dashboard's figures for one month,
overall and per permit type, with the charts, as a PDF; the same tables as CSV and XLSX.

Asked for on the dashboard (:func:`request_report`, then the Celery task runs :func:`run_report`,
which records its progress so the page can show it) or from the CLI (``ptsp report --month``).
Texts are Indonesian (the office's language; the report is an official document).
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.lanes import LANES
from app.desk.charts import Point, ikm_by_quarter, on_time_by_month, received_by_week
from app.desk.models import MonthlyReport, ReportStatus
from app.desk.rollup import DeskParts
from app.desk.services import STATE_LABELS, Dashboard, dashboard, month_of
from app.errors import Invalid
from app.i18n import N_
from app.publisher import enqueue_after_commit
from app.skm.models import ELEMENT_LABELS
from app.skm.services import SurveyIndex, format_score, period_index

log = logging.getLogger(__name__)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
KINDS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ReportInvalid(Invalid):
    """The month asked for is not a month (YYYY-MM); nothing was queued."""


def recent_reports(session: Session, limit: int = 5) -> list[MonthlyReport]:
    """The last reports ordered, newest first."""
    return list(session.scalars(select(MonthlyReport).order_by(MonthlyReport.id.desc()).limit(limit)))


def parse_month(text: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    match = _MONTH.match((text or "").strip())
    if match is None:
        raise ReportInvalid(f"{text!r} is not a month of the form YYYY-MM, e.g. 2026-11")
    return month_of(date(int(match.group(1)), int(match.group(2)), 1))


@dataclass(frozen=True)
class Table:
    name: str
    sheet: str  # a spreadsheet's sheet name holds at most 31 characters
    header: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class MonthFigures:
    month: str
    start: date
    end: date
    overall: Dashboard
    per_type: dict[str, Dashboard]
    titles: dict[str, str]
    skm: SurveyIndex
    on_time_months: list[Point]
    received_weeks: list[Point]
    ikm_quarters: list[Point]


def gather(c: DeskParts, session: Session, month: str) -> MonthFigures:
    """Every figure of the month, overall and per permit type."""
    start, end = parse_month(month)
    calendar, hours = c.office_calendar.current(session), c.office_calendar.hours
    now = c.clock.now()
    titles = {key: entry.name["id"] for key, entry in c.catalogue.entries.items()}
    overall = dashboard(session, calendar, hours, now, start, end, None, titles)
    per_type = {key: dashboard(session, calendar, hours, now, start, end, key, titles) for key in titles}
    return MonthFigures(month, start, end, overall, per_type, titles, period_index(session, start, end),
                        on_time_by_month(session, end), received_by_week(session, end), ikm_by_quarter(session, end))


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def tables(f: MonthFigures) -> list[Table]:
    """The report's tables, as in the PDF and the spreadsheets."""
    summary = Table("Ringkasan per jenis izin", "Ringkasan",
                    ["Jenis izin", "Diterima", N_("Selesai"), "Tepat waktu", "Selesai dengan jam SLA", "Tepat waktu (%)",
                     "Retribusi ditetapkan (Rp)", "Retribusi dibayar (Rp)", "Pengaduan dijawab"], [])
    for key, board in [*f.per_type.items(), ("", f.overall)]:
        fees = board.fees
        summary.rows.append([f.titles.get(key, "Semua jenis izin") if key else "Semua jenis izin", board.received,
                             board.finished, board.on_time, board.finished_with_clock, _pct(board.on_time_percent),
                             sum(x.assessed for x in fees), sum(x.paid for x in fees), board.complaints_answered])
    states = Table("Berkas berjalan menurut status SLA", "Status SLA", [N_("Status"), N_("Jumlah")],
                   [[STATE_LABELS[state], count] for state, count in f.overall.open_by_state.items()])
    procedures = Table("Lama proses per prosedur (hari kerja)", "Lama per prosedur",
                       ["Jenis izin", "Berkas", "Median", "Persentil 90", "Terlambat"],
                       [[p.title, p.count, _days(p.median), _days(p.p90), p.overdue] for p in f.overall.procedures])
    steps = Table("Lama proses per langkah (hari kerja)", "Lama per langkah",
                  ["Jenis izin", "Langkah", "Banyaknya", "Median", "Persentil 90", "Terlambat"],
                  [[f.titles.get(s.key.split(":")[0], s.key.split(":")[0]), s.title, s.count, _days(s.median),
                    _days(s.p90), s.overdue] for s in f.overall.steps])
    lanes = Table("Beban kerja per jalur", "Beban per jalur",
                  ["Jalur", "Terbuka", "Diklaim", "Selesai pada periode", "Terlambat"],
                  [[LANES.get(w.name, {}).get("id", w.name), w.open, w.claimed, w.completed, w.overdue]
                   for w in f.overall.lanes])
    officers = Table("Beban kerja per petugas", "Beban per petugas",
                     ["Petugas", "Diklaim", "Selesai pada periode", "Terlambat"],
                     [[w.name, w.claimed, w.completed, w.overdue] for w in f.overall.officers])
    complaints = Table("Pengaduan", "Pengaduan",
                       ["Belum dijawab", "Dijawab pada periode", "Median waktu menjawab (hari kerja)"],
                       [[f.overall.complaints_open, f.overall.complaints_answered, _days(f.overall.answer_median_days)]])
    skm = Table("Survei kepuasan masyarakat (IKM)", "IKM", ["Unsur", "NRR"],
                [[ELEMENT_LABELS[e.element], e.nrr] for e in f.skm.elements]
                + ([["IKM", f.skm.ikm], ["Mutu pelayanan", f"{f.skm.band} ({f.skm.band_name})"],
                    ["Responden", f.skm.respondents]] if f.skm.respondents else [["Responden", 0]]))
    trend = Table("Tepat waktu per bulan (%)", "Tepat waktu per bulan", [N_("Bulan"), "Tepat waktu (%)", "Keterangan"],
                  [[p.label, _pct(p.value), p.detail] for p in f.on_time_months])
    weeks = Table("Berkas diterima per minggu", "Diterima per minggu", ["Minggu mulai", "Diterima"],
                  [[p.label, int(p.value or 0)] for p in f.received_weeks])
    quarters = Table("IKM per triwulan", "IKM per triwulan", ["Triwulan", "IKM", "Responden"],
                     [[p.label, "" if p.value is None else Decimal(f"{p.value:.2f}"), p.detail] for p in f.ikm_quarters])
    return [summary, states, procedures, steps, lanes, officers, complaints, skm, trend, weeks, quarters]


def to_csv(all_tables: list[Table]) -> bytes:
    """One CSV (UTF-8 with BOM, so spreadsheets read it right): each table under its name, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in all_tables:
        writer.writerow([table.name])
        writer.writerow(table.header)
        writer.writerows(table.rows)
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(all_tables: list[Table]) -> bytes:
    """One sheet per table, its header in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in all_tables:
        sheet = book.create_sheet(table.sheet)
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])  # numbers stay numbers
        for column in sheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _pdf_cell(value: object) -> str:
    """A table cell in the (Indonesian) PDF: scores with a decimal comma; the CSV keeps the point."""
    return format_score(value, "id_ID") if isinstance(value, Decimal) else str(value)


def to_pdf(f: MonthFigures, all_tables: list[Table], office_name: str) -> bytes:
    """The report as an A4 PDF: the headline figures, the three charts, then every table."""
    from xml.sax.saxutils import escape

    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Laporan bulanan {f.month}", author=office_name)
    o = f.overall
    story: list[Any] = [
        Paragraph(escape(office_name), styles["Heading4"]),
        Paragraph(f"Laporan Kinerja Pelayanan Perizinan — {escape(f.month)}", styles["Title"]),
        Paragraph(f"Periode {f.start:%d-%m-%Y} s.d. {f.end:%d-%m-%Y}", styles["BodyText"]),
        Spacer(1, 4 * mm),
        Paragraph(f"Berkas diterima: <b>{o.received}</b> · selesai: <b>{o.finished}</b> · tepat waktu: "
                  f"<b>{_pct(o.on_time_percent) or '-'} %</b> ({o.on_time} dari {o.finished_with_clock}, dihitung dalam "
                  "hari kerja menurut jam SLA; waktu menunggu pemohon tidak dihitung)", styles["BodyText"]),
        Paragraph(f"IKM: <b>{format_score(f.skm.ikm, 'id_ID')}</b>"
                  + (f" ({f.skm.band}, {escape(f.skm.band_name or '')}), {f.skm.respondents} responden"
                     if f.skm.respondents else " (belum ada responden)"), styles["BodyText"]),
        Spacer(1, 4 * mm),
    ]

    def chart(title: str, points: list[Point], top: float) -> Drawing:
        drawing = Drawing(170 * mm, 55 * mm)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 12 * mm, 10 * mm, 150 * mm, 36 * mm
        bars.data = [[p.value or 0 for p in points]]
        bars.categoryAxis.categoryNames = [p.label for p in points]
        bars.categoryAxis.labels.fontSize = 6
        bars.valueAxis.valueMin, bars.valueAxis.valueMax = 0, max(top, 1)
        bars.valueAxis.labels.fontSize = 7
        bars.bars[0].fillColor = colors.HexColor("#3b528b")
        bars.barLabelFormat = "%.0f"
        bars.barLabels.fontSize = 6
        bars.barLabels.nudge = 5
        drawing.add(bars)
        drawing.add(String(12 * mm, 50 * mm, title, fontSize=9, fontName="Helvetica-Bold"))
        return drawing

    story.append(chart("Tepat waktu per bulan (%)", f.on_time_months, 100))
    story.append(chart("Berkas diterima per minggu", f.received_weeks, max([p.value or 0 for p in f.received_weeks] + [1])))
    story.append(chart("IKM per triwulan", f.ikm_quarters, 100))
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    for table in all_tables:
        data = [[Paragraph(f"<b>{escape(str(h))}</b>", cell) for h in table.header]]
        data += [[Paragraph(escape(_pdf_cell(v)), cell) for v in row] for row in table.rows] or [
            [Paragraph("-", cell)] + [""] * (len(table.header) - 1)]
        pdf_table = PdfTable(data, repeatRows=1, colWidths=[180 * mm / len(table.header)] * len(table.header))
        pdf_table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8f0")),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(KeepTogether([Spacer(1, 4 * mm), Paragraph(escape(table.name), styles["Heading4"]), pdf_table])
                     if len(table.rows) < 25 else pdf_table)
    doc.build(story)
    return buffer.getvalue()


# -- running it ---------------------------------------------------------------------------------
def report_dir(c: DeskParts, report_id: int) -> Path:
    return c.settings.var_dir / "reports" / str(report_id)


def file_name(month: str, kind: str) -> str:
    return f"laporan-ptsp-{month}.{kind}"


def build_files(c: DeskParts, session: Session, month: str, out: Path,
                progress: Any = lambda percent: None) -> dict[str, Path]:
    """Write the PDF, CSV and XLSX of ``month`` into ``out``; ``progress(percent)`` is told along the way."""
    figures = gather(c, session, month)
    progress(40)
    all_tables = tables(figures)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / file_name(month, kind) for kind in KINDS}
    paths["csv"].write_bytes(to_csv(all_tables))
    paths["xlsx"].write_bytes(to_xlsx(all_tables))
    progress(60)
    paths["pdf"].write_bytes(to_pdf(figures, all_tables, c.settings.office_name))
    progress(100)
    return paths


def request_report(session: Session, month: str, username: str, now: datetime) -> MonthlyReport:
    """Queue the report of ``month``; the worker builds it once this transaction commits."""
    parse_month(month)
    report = MonthlyReport(month=month.strip(), status=ReportStatus.QUEUED, progress=0, requested_by=username, requested_at=now)
    session.add(report)
    session.flush()
    enqueue_after_commit(session, "workers.tasks.monthly_report", report.id)
    return report


def run_report(c: DeskParts, report_id: int) -> str:
    """Build a queued report (the Celery task): its progress and outcome are committed as they happen."""
    with c.db.unit_of_work() as session:
        report = session.get(MonthlyReport, report_id)
        if report is None or report.status == ReportStatus.DONE:
            return report.status if report else "missing"
        report.status, report.progress, month = ReportStatus.RUNNING, 10, report.month

    def progress(percent: int) -> None:
        with c.db.unit_of_work() as s:
            s.get_one(MonthlyReport, report_id).progress = percent

    try:
        with c.db.unit_of_work() as session:
            build_files(c, session, month, report_dir(c, report_id), progress)
    except Exception as exc:
        log.exception("monthly report %s (%s) failed", report_id, month)
        with c.db.unit_of_work() as session:
            failed = session.get_one(MonthlyReport, report_id)
            failed.status, failed.error, failed.finished_at = ReportStatus.FAILED, str(exc)[:2000], c.clock.now()
        return "failed"
    with c.db.unit_of_work() as session:
        done = session.get_one(MonthlyReport, report_id)
        done.status, done.progress, done.finished_at = ReportStatus.DONE, 100, c.clock.now()
    return "done"
