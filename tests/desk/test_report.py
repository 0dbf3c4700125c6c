"""The monthly report: one click on the dashboard queues it, the worker builds the PDF, CSV and XLSX
(progress shown on its page), and `ptsp report --month` writes the same files."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.desk.models import MonthlyReport
from app.desk.report import run_report
from app.desk.rollup import refresh_rollups
from tests.desk.history import recompute, seed_month
from tests.web import post_form, signed_in


def summary_row(rows: list[list[object]]) -> list[object]:
    [row] = [r for r in rows if r and r[0] == "Semua jenis izin"]
    return row


def test_one_click_queues_the_report_and_its_page_offers_the_files_when_done(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    expected = recompute(deployed, date(2026, 1, 1), date(2026, 1, 31))
    manager = signed_in(web_app, "manajer")
    refused = post_form(manager, "/dashboard/reports", {"month": "2026-13"}, token_from="/dashboard")
    assert refused.status_code == 400 and "TTTT-BB" in refused.get_data(as_text=True)
    assert deployed.publisher.jobs == [] or all(j.name != "workers.tasks.monthly_report" for j in deployed.publisher.jobs)
    queued = post_form(manager, "/dashboard/reports", {"month": "2026-01"}, token_from="/dashboard")
    assert queued.status_code == 302
    [job] = [j for j in deployed.publisher.jobs if j.name == "workers.tasks.monthly_report"]
    report_id = job.args[0]
    waiting = manager.get(queued.headers["Location"])
    assert 'data-status="queued"' in waiting.get_data(as_text=True) and waiting.headers["Refresh"] == "2"
    assert manager.get(f"/dashboard/reports/{report_id}/pdf").status_code == 404  # not made yet

    assert run_report(deployed, report_id) == "done"  # what the Celery task does
    done = manager.get(f"/dashboard/reports/{report_id}")
    assert 'data-status="done"' in done.get_data(as_text=True) and "Refresh" not in done.headers
    pdf = manager.get(f"/dashboard/reports/{report_id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and len(pdf.data) > 5000
    assert "laporan-ptsp-2026-01.pdf" in pdf.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(manager.get(f"/dashboard/reports/{report_id}/csv").data.decode("utf-8-sig"))))
    assert summary_row(rows)[1:5] == [str(expected.received), str(expected.finished), str(expected.on_time),
                                      str(expected.with_clock)]
    book = load_workbook(io.BytesIO(manager.get(f"/dashboard/reports/{report_id}/xlsx").data))
    sheet = book["Ringkasan"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert summary_row(values)[1:5] == [expected.received, expected.finished, expected.on_time, expected.with_clock]
    assert summary_row(values)[6:8] == [367_500, 367_500]
    assert "Lama per langkah" in book.sheetnames
    # administrators read the desk (and download) but do not order reports
    admin = signed_in(web_app, "admin")
    assert admin.get(f"/dashboard/reports/{report_id}/csv").status_code == 200
    assert post_form(admin, "/dashboard/reports", {"month": "2026-01"}, token_from="/dashboard").status_code == 403


def test_the_cli_writes_the_three_files(web_app: Flask, deployed: Container, clock: FixedClock, tmp_path: Path) -> None:
    seed_month(deployed, clock)
    result = web_app.test_cli_runner().invoke(args=["report", "--month", "2026-01", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for kind in ("pdf", "csv", "xlsx"):
        path = tmp_path / "out" / f"laporan-ptsp-2026-01.{kind}"
        assert f"{kind}: {path}" in result.output and path.stat().st_size > 0
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "laporan-ptsp-2026-01.csv").read_text("utf-8-sig"))))
    assert summary_row(rows)[1:3] == ["5", "3"]  # the CLI brings the rollups up to date first
    bad = web_app.test_cli_runner().invoke(args=["report", "--month", "November"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(MonthlyReport)).all() == []


def test_scores_read_with_a_decimal_comma_in_the_pdf_and_stay_numbers_in_csv_and_xlsx() -> None:
    from decimal import Decimal

    from app.desk.report import MonthFigures, _pdf_cell, to_csv, to_xlsx
    from app.desk.report import tables as report_tables
    from app.desk.services import Dashboard
    from app.skm.services import format_score, survey_index

    index = survey_index({"requirements": 4, "procedure": 3, "time": 2, "cost": 4, "product": 4, "competence": 3,
                          "behaviour": 4, "complaints": 3, "facilities": 3}, 1)
    assert index.ikm == Decimal("83.33")
    assert (format_score(index.ikm, "id_ID"), format_score(index.ikm, "en_GB")) == ("83,33", "83.33")
    assert format_score(Decimal("82.3"), "id_ID") == "82,30" and format_score(None, "id_ID") == "-"
    assert _pdf_cell(index.ikm) == "83,33" and _pdf_cell(12) == "12"
    board = Dashboard(date(2026, 1, 1), date(2026, 1, 31), None)
    figures = MonthFigures("2026-01", date(2026, 1, 1), date(2026, 1, 31), board, {}, {}, index, [], [], [])
    all_tables = report_tables(figures)
    rows = list(csv.reader(io.StringIO(to_csv(all_tables).decode("utf-8-sig"))))
    assert ["IKM", "83.33"] in rows and ["Waktu penyelesaian", "2.00"] in rows
    book = load_workbook(io.BytesIO(to_xlsx(all_tables)))
    values = [list(r) for r in book["IKM"].iter_rows(values_only=True)]
    assert ["IKM", 83.33] in values and ["Waktu penyelesaian", 2.0] in values  # numeric cells
