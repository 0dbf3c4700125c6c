"""The dashboard's charts: series read from the rollup rows, drawn as plain SVG on the server
(no script, printable, readable without colour: every bar carries its value), each shown beside
a table of the same figures."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.desk.models import DayRollup
from app.i18n import EMPTY
from app.skm.services import period_index, quarter_of

BAR = "#3b528b"  # viridis, as the heat map


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    detail: str = ""  # e.g. "12 / 15"


def _daily(session: Session, start: date, end: date, permit_type: str | None) -> dict[date, tuple[int, int, int]]:
    query = select(DayRollup.day, func.sum(DayRollup.received), func.sum(DayRollup.with_clock),
                   func.sum(DayRollup.on_time)).where(DayRollup.day >= start, DayRollup.day <= end)
    if permit_type:
        query = query.where(DayRollup.process_id == permit_type)
    return {day: (int(r or 0), int(w or 0), int(o or 0)) for day, r, w, o in session.execute(query.group_by(DayRollup.day))}


def _months_back(last: date, months: int) -> list[tuple[date, date]]:
    spans = []
    year, month = last.year, last.month
    for _ in range(months):
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        spans.append((first, following - timedelta(days=1)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return spans[::-1]


def on_time_by_month(session: Session, today: date, permit_type: str | None = None, months: int = 12,
                     month_label: Callable[[date], str] = lambda d: d.strftime("%Y-%m")) -> list[Point]:
    """On-time % of the files finished in each of the last ``months`` months (this one included)."""
    spans = _months_back(today, months)
    daily = _daily(session, spans[0][0], spans[-1][1], permit_type)
    points = []
    for first, last in spans:
        with_clock = sum(w for d, (_, w, _) in daily.items() if first <= d <= last)
        on_time = sum(o for d, (_, _, o) in daily.items() if first <= d <= last)
        points.append(Point(month_label(first), 100.0 * on_time / with_clock if with_clock else None,
                            f"{on_time} / {with_clock}"))
    return points


def received_by_week(session: Session, today: date, permit_type: str | None = None, weeks: int = 12,
                     week_label: Callable[[date], str] = lambda d: d.isoformat()) -> list[Point]:
    """Files received in each of the last ``weeks`` weeks (Monday to Sunday, this one included)."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    daily = _daily(session, starts[0], monday + timedelta(days=6), permit_type)
    return [Point(week_label(s), float(sum(r for d, (r, _, _) in daily.items() if s <= d <= s + timedelta(days=6))))
            for s in starts]


def ikm_by_quarter(session: Session, today: date, permit_type: str | None = None, quarters: int = 4) -> list[Point]:
    """IKM of each of the last ``quarters`` quarters (None where nobody answered)."""
    spans = []
    start, end = quarter_of(today)
    for _ in range(quarters):
        spans.append((start, end))
        start, end = quarter_of(start - timedelta(days=1))
    points = []
    for first, last in spans[::-1]:
        index = period_index(session, first, last, permit_type)
        points.append(Point(f"{first.year} T{(first.month - 1) // 3 + 1}",
                            float(index.ikm) if index.ikm is not None else None, f"n={index.respondents}"))
    return points


def bar_chart(title: str, points: list[Point], y_max: float, fmt: Callable[[float], str], chart_id: str) -> Markup:
    """An accessible SVG bar chart: a title, one labelled bar per point, its value written on it."""
    width, height, left, bottom, top = 640, 240, 40, 40, 16
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / max(len(points), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title" class="desk-chart" data-chart="{chart_id}">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{escape(fmt(y_max * fraction))}</text>')
    for i, point in enumerate(points):
        x = left + i * step
        label_x = x + step / 2
        if point.value is not None and y_max > 0:
            h = plot_h * min(point.value, y_max) / y_max
            y = top + plot_h - h
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{BAR}">'
                         f'<title>{escape(point.label)}: {escape(fmt(point.value))} {escape(point.detail)}</title></rect>')
            parts.append(f'<text x="{label_x:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">'
                         f'{escape(fmt(point.value))}</text>')
        else:
            parts.append(f'<text x="{label_x:.1f}" y="{top + plot_h - 3:.1f}" text-anchor="middle" font-size="10" '
                         f'fill="#777">{EMPTY}</text>')
        parts.append(f'<text x="{label_x:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10">'
                     f'{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
