"""/dashboard: every figure checked against a recomputation from the seeded raw history."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask

from app.clock import FixedClock
from app.container import Container
from app.desk.rollup import bucket_of, bucket_percentile, refresh_rollups
from app.desk.services import dashboard, p90
from tests.desk.history import bucket_median, bucket_p90, close, nearest_rank_p90, recompute, seed_month
from tests.web import signed_in

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


def board_of(c: Container, permit_type: str | None = None):  # type: ignore[no-untyped-def]
    return dashboard_for(c, *JANUARY, permit_type)


def dashboard_for(c: Container, start: date, end: date, permit_type: str | None = None):  # type: ignore[no-untyped-def]
    with c.db.unit_of_work() as session:
        return dashboard(session, c.calendar, c.office_calendar.hours, c.clock.now(), start, end, permit_type)


@pytest.mark.parametrize("permit_type", [None, "trade_licence", "nuisance_permit"])
def test_every_figure_equals_a_recomputation_from_history(web_app: Flask, deployed: Container, clock: FixedClock,
                                                          permit_type: str | None) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    board = board_of(deployed, permit_type)
    expected = recompute(deployed, *JANUARY, permit_type)

    assert (board.received, board.finished) == (expected.received, expected.finished)
    assert (board.on_time, board.finished_with_clock) == (expected.on_time, expected.with_clock)
    if permit_type is None:
        assert (board.received, board.finished, board.on_time, board.finished_with_clock) == (5, 3, 2, 3)
    procedures = {p.key: p for p in board.procedures}
    assert set(procedures) == set(expected.procedures)
    for process_id, values in expected.procedures.items():
        procedure = procedures[process_id]
        assert procedure.count == len(values)
        assert close(procedure.median, bucket_median(values)) and close(procedure.p90, bucket_p90(values))
    steps = {s.key: s for s in board.steps}
    assert set(steps) == {f"{p}:{t}" for p, t in expected.steps}
    for (process_id, task_name), values in expected.steps.items():
        step = steps[f"{process_id}:{task_name}"]
        assert step.count == len(values)
        assert close(step.median, bucket_median(values)) and close(step.p90, bucket_p90(values))
        assert step.overdue == expected.steps_overdue[(process_id, task_name)]
    slowest = board.slowest_steps
    assert [s.median for s in slowest] == sorted((s.median for s in slowest), reverse=True)
    assert slowest[0].median == max(bucket_median(v) for v in expected.steps.values())
    lanes = {w.name: w for w in board.lanes}
    assert {k: w.open for k, w in lanes.items() if w.open} == dict(expected.lanes_open)
    assert {k: w.completed for k, w in lanes.items() if w.completed} == dict(expected.lanes_completed)
    assert {k: v for k, v in board.open_by_state.items() if v} == dict(expected.open_by_state)
    assert {f.process_id: (f.assessed, f.paid) for f in board.fees} == expected.fees
    if permit_type in (None, "trade_licence"):
        officers = {w.name: w for w in board.officers}
        assert officers["Bambang Sutrisno"].claimed == 1  # verifikator claimed the open file's step
        assert (board.complaints_open, board.complaints_answered) == (1, 1)
        assert board.answer_median_days is not None and board.answer_median_days > 0
    else:
        assert (board.complaints_open, board.complaints_answered) == (0, 0)


def test_a_file_over_its_limit_counts_late_and_the_paid_fee_is_counted(web_app: Flask, deployed: Container,
                                                                      clock: FixedClock) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    board = board_of(deployed)
    assert board.on_time_percent is not None and round(board.on_time_percent, 1) == 66.7
    assert {f.process_id: (f.assessed, f.paid) for f in board.fees} == {"nuisance_permit": (367_500, 367_500),
                                                                        "trade_licence": (0, 0)}
    # another period: nothing happened in December
    december = dashboard_for(deployed, date(2025, 12, 1), date(2025, 12, 31))
    assert (december.received, december.finished, december.steps, december.on_time_percent) == (0, 0, [], None)


def test_histogram_percentiles_at_a_quarter_day_resolution() -> None:
    assert [bucket_of(v) for v in (0.0, 0.01, 0.25, 0.2500000001, 0.26, 0.5 - 1e-12, 30.0, 30.01, 400.0)] == [
        0, 1, 1, 1, 2, 2, 120, 121, 121]
    assert bucket_percentile({}, 0.5) is None
    assert bucket_percentile({2: 1, 20: 1}, 0.5) == 0.5  # even count: the lower middle
    assert bucket_percentile({2: 1, 20: 1}, 0.9) == 5.0
    assert bucket_percentile({4: 9, 121: 1}, 0.9) == 1.0 and bucket_percentile({4: 8, 121: 2}, 0.9) == 30.25
    for values in ([0.1, 0.3, 7.2, 2.0], [0.26] * 7 + [40.0] * 3, [v / 3 for v in range(37)]):
        counts: dict[int, int] = {}
        for v in values:
            counts[bucket_of(v)] = counts.get(bucket_of(v), 0) + 1
        assert bucket_percentile(counts, 0.5) == bucket_median(values)
        assert bucket_percentile(counts, 0.9) == bucket_p90(values)


def test_percentiles() -> None:
    assert p90([5.0]) == 5.0
    assert p90([float(v) for v in range(1, 11)]) == 9.0  # 9 of 10 values are at or below 9
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # 10 of 11 (90.9%) are at or below 10
    for values in ([1.0, 2.0, 2.5, 7.0], [0.3, 0.1, 0.2], [float(v % 7) for v in range(37)]):
        assert p90(values) == nearest_rank_p90(values)


def _figure(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert match, testid
    return match.group(1).strip()


def test_the_manager_sees_the_month_with_links_to_the_files_by_state(web_app: Flask, deployed: Container,
                                                                     clock: FixedClock) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    page = signed_in(web_app, "manajer").get("/dashboard").get_data(as_text=True)  # default: this month
    assert "1 Januari 2026" in page and "31 Januari 2026" in page
    assert (_figure(page, "received"), _figure(page, "finished")) == ("5", "3")
    assert "66,7 %" in page
    assert 'href="/files?sla_state=breached"' in page
    filtered = signed_in(web_app, "kepala").get("/dashboard?permit_type=trade_licence").get_data(as_text=True)
    assert 'href="/files?sla_state=breached&amp;permit_type=trade_licence"' in filtered
    assert _figure(filtered, "received") == "3"
    english = signed_in(web_app, "admin").get("/dashboard?lang=en").get_data(as_text=True)
    assert "Files received" in english and "Open files by SLA state" in english


def test_bad_filters_are_refused_beside_their_field(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    manager = signed_in(web_app, "manajer")
    response = manager.get("/dashboard?start=2026-02-30&permit_type=<script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Tanggal tidak valid." in page and "Jenis izin tidak dikenal." in page and "<script>" not in page
    reversed_period = manager.get("/dashboard?start=2026-01-31&end=2026-01-01").get_data(as_text=True)
    assert "Tanggal akhir sebelum tanggal awal." in reversed_period
    assert signed_in(web_app, "verifikator").get("/dashboard").status_code == 403
