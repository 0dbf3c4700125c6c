"""The charts' series against the seeded history, and the SVG a reader (or a screen reader) gets."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.desk.charts import Point, bar_chart, ikm_by_quarter, on_time_by_month, received_by_week
from app.desk.rollup import refresh_rollups
from app.files.models import ApplicationFile
from app.skm.models import ELEMENTS, SurveyResponse
from app.skm.services import index_of
from tests.desk.history import recompute, seed_month
from tests.web import signed_in


def test_series_equal_the_history(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    today = date(2026, 1, 31)
    with deployed.db.unit_of_work() as session:
        months = on_time_by_month(session, today)
        weeks = received_by_week(session, today)
        created = [deployed.calendar.local_date(t) for t in session.scalars(select(ApplicationFile.created_at))]
    expected = recompute(deployed, date(2026, 1, 1), today)
    assert [p.label for p in months][-2:] == ["2025-12", "2026-01"] and len(months) == 12
    assert months[-1].value == 100.0 * expected.on_time / expected.with_clock
    assert months[-1].detail == f"{expected.on_time} / {expected.with_clock}"
    assert all(p.value is None for p in months[:-1])
    assert len(weeks) == 12 and weeks[-1].label == "2026-01-26"
    for point in weeks:
        monday = date.fromisoformat(point.label)
        assert point.value == sum(1 for d in created if monday <= d <= monday + timedelta(days=6))
    assert sum(p.value or 0 for p in weeks) == expected.received


def test_ikm_per_quarter(web_app: Flask, deployed: Container) -> None:
    answers = {date(2025, 11, 3): [3] * 9, date(2025, 12, 20): [4, 4, 3, 3, 4, 4, 4, 2, 3],
               date(2026, 2, 2): [2, 3, 3, 3, 2, 3, 3, 3, 3]}
    with deployed.db.unit_of_work() as session:
        for day, scores in answers.items():
            session.add(SurveyResponse(process_id="trade_licence", answered_on=day,
                                       **{f"u_{n}": v for n, v in zip(ELEMENTS, scores, strict=True)}))
    with deployed.db.unit_of_work() as session:
        quarters = ikm_by_quarter(session, date(2026, 3, 31))
    assert [p.label for p in quarters] == ["2025 T2", "2025 T3", "2025 T4", "2026 T1"]
    q4 = index_of([dict(zip(ELEMENTS, answers[d], strict=True)) for d in (date(2025, 11, 3), date(2025, 12, 20))])
    q1 = index_of([dict(zip(ELEMENTS, answers[date(2026, 2, 2)], strict=True))])
    assert [p.value for p in quarters] == [None, None, float(q4.ikm or 0), float(q1.ikm or 0)]
    assert quarters[2].value == 80.56  # scores 27 and 31: (27 + 31) / (2 x 9) x 25 = 80.555.. by hand


def test_the_svg_names_itself_and_writes_every_value() -> None:
    svg = str(bar_chart("Tepat <waktu>", [Point("Jan", 50.0, "1 / 2"), Point("Feb", None)], 100.0,
                        lambda v: f"{v:.0f}%", "chart-x"))
    assert 'role="img"' in svg and 'aria-labelledby="chart-x-title"' in svg
    assert "<title id=\"chart-x-title\">Tepat &lt;waktu&gt;</title>" in svg
    assert svg.count("<rect") == 1 and ">50%<" in svg and "Jan: 50% 1 / 2" in svg


def test_the_dashboard_shows_each_chart_beside_its_table(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    seed_month(deployed, clock)
    refresh_rollups(deployed)
    page = signed_in(web_app, "manajer").get("/dashboard?start=2026-01-01&end=2026-01-31").get_data(as_text=True)
    for chart in ("on-time", "received", "ikm"):
        assert f'data-testid="chart-{chart}"' in page and f'data-chart="chart-{chart}"' in page
    assert "Tepat waktu per bulan (%)" in page and "Jan 26" in page and "67%" in page
