"""The figures of the manager's dashboard, for a period (local dates, inclusive) and a permit type.

History figures come from running figures whose size does not grow with files (day counters,
duration histograms per day and step, steps completed per day and officer: :mod:`app.desk.models`),
summed over the period's days. Figures about *now* (open files by SLA state, open and claimed steps
per lane and officer, open complaints) come from the live tables through indexes that hold only
open rows' keys, so they cost O(open files), a small fraction of all files.

Percentiles of durations are nearest-rank percentiles of the period's summed histogram, at its
resolution (:data:`app.desk.rollup.RESOLUTION` = a quarter of a working day, up to 30 working days,
longer reads as 30.25): the median is the smallest bucket with at least half of the durations at
or below it, p90 the smallest with at least 90%; each is the bucket's upper edge.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.complaints.models import Complaint, ComplaintStatus
from app.desk.models import DayRollup, DurationBucket, WorkDay
from app.desk.rollup import bucket_percentile, working_days
from app.engine.models import HumanTask, ProcessDefinition, open_task
from app.files.models import ApplicationFile
from app.i18n import N_
from app.sla import policy
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours

DASHBOARD_ROLES = ("manager",)
HEAD_LANE = "head"
SLOWEST = 5
STATE_LABELS = {policy.ON_TRACK: N_("Sesuai jadwal"), policy.WARNING: N_("Peringatan"), policy.CRITICAL: N_("Kritis"),
                policy.BREACHED: N_("Melewati batas")}


def may_view_dashboard(user: Any) -> bool:
    """Managers, the head of office (lane "head") and administrators (who only read)."""
    role = getattr(user, "role", None)
    return role in DASHBOARD_ROLES or role == "admin" or HEAD_LANE in (getattr(user, "lane_names", None) or set())


def may_view_heat(user: Any) -> bool:
    """The heat map (step durations, no names): dashboard readers, and process designers on their diagrams."""
    return may_view_dashboard(user) or getattr(user, "role", None) == "designer"


def may_order_reports(user: Any) -> bool:
    """Administrators read the dashboard but do not act on it."""
    return getattr(user, "role", None) != "admin" and may_view_dashboard(user)


def month_of(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return start, following - timedelta(days=1)


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class Spread:
    """Working days of a procedure or a step over the period."""

    key: str
    title: str
    count: int
    median: float | None
    p90: float | None
    overdue: int = 0

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue / self.count if self.count else None


@dataclass(frozen=True)
class Workload:
    name: str  # lane or officer username
    open: int = 0
    claimed: int = 0
    completed: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Fees:
    process_id: str
    assessed: int
    paid: int


@dataclass
class Dashboard:
    start: date
    end: date
    permit_type: str | None
    received: int = 0
    finished: int = 0
    finished_with_clock: int = 0
    on_time: int = 0
    open_by_state: dict[str, int] = field(default_factory=dict)
    procedures: list[Spread] = field(default_factory=list)
    steps: list[Spread] = field(default_factory=list)
    lanes: list[Workload] = field(default_factory=list)
    officers: list[Workload] = field(default_factory=list)
    fees: list[Fees] = field(default_factory=list)
    complaints_open: int = 0
    complaints_answered: int = 0
    answer_median_days: float | None = None

    @property
    def on_time_percent(self) -> float | None:
        """Files finished within their legal limit, of the finished files whose clock ran."""
        return 100.0 * self.on_time / self.finished_with_clock if self.finished_with_clock else None

    @property
    def slowest_steps(self) -> list[Spread]:
        return sorted((s for s in self.steps if s.median is not None),
                      key=lambda s: (-(s.median or 0), -(s.p90 or 0), s.key))[:SLOWEST]


def dashboard(session: Session, calendar: WorkingCalendar, hours: OfficeHours, now: datetime, start: date, end: date,
              permit_type: str | None = None, titles: dict[str, str] | None = None) -> Dashboard:
    """Every figure of the dashboard for ``start``..``end`` (local dates) and one permit type or all."""
    board = Dashboard(start, end, permit_type)
    _files(session, board)
    _open_by_state(session, board)
    board.procedures = _procedure_spread(session, board, titles or {})
    board.steps = step_spread(session, start, end, permit_type)
    _workload(session, board, now)
    _complaints(session, board, calendar, hours)
    return board


def _files(session: Session, board: Dashboard) -> None:
    query = select(DayRollup.process_id, func.sum(DayRollup.received), func.sum(DayRollup.finished),
                   func.sum(DayRollup.with_clock), func.sum(DayRollup.on_time), func.sum(DayRollup.fee_assessed),
                   func.sum(DayRollup.fee_paid)).where(DayRollup.day >= board.start, DayRollup.day <= board.end)
    if board.permit_type:
        query = query.where(DayRollup.process_id == board.permit_type)
    for process_id, received, finished, with_clock, on_time, assessed, paid in session.execute(
            query.group_by(DayRollup.process_id).order_by(DayRollup.process_id)):
        board.received += int(received or 0)
        board.finished += int(finished or 0)
        board.finished_with_clock += int(with_clock or 0)
        board.on_time += int(on_time or 0)
        if finished:
            board.fees.append(Fees(process_id, int(assessed or 0), int(paid or 0)))


def _open_by_state(session: Session, board: Dashboard) -> None:
    query = select(ApplicationFile.sla_state, func.count()).where(
        ApplicationFile.sla_stopped_at.is_(None), ApplicationFile.sla_state.is_not(None))
    if board.permit_type:
        query = query.where(ApplicationFile.process_id == board.permit_type)
    counts = {state: count for state, count in session.execute(query.group_by(ApplicationFile.sla_state))}
    board.open_by_state = {state: int(counts.get(state, 0)) for state in policy.STATES}


def _procedure_spread(session: Session, board: Dashboard, titles: dict[str, str]) -> list[Spread]:
    groups = histograms(session, "file", board.start, board.end, board.permit_type)
    return [Spread(key[0], titles.get(key[0], key[0]), *figures) for key, figures in sorted(groups.items())]


def step_spread(session: Session, start: date, end: date, permit_type: str | None = None) -> list[Spread]:
    """Per step (permit type and task name) completed in the period: count, median, p90, overdue."""
    groups = histograms(session, "step", start, end, permit_type)
    titles = step_titles(session, {key[0] for key in groups})
    return [Spread(f"{p}:{t}", titles.get((p, t), t), *figures) for (p, t), figures in sorted(groups.items())]


def histograms(session: Session, kind: str, start: date, end: date, permit_type: str | None = None
               ) -> dict[tuple[str, str], tuple[int, float | None, float | None, int]]:
    """(count, median, p90, late) per (permit type, step name) from the summed histograms of the
    period: one indexed range of rows per day, steps x buckets in use wide."""
    query = select(DurationBucket.process_id, DurationBucket.name, DurationBucket.bucket,
                   func.sum(DurationBucket.count), func.sum(DurationBucket.late)).where(
        DurationBucket.day >= start, DurationBucket.day <= end, DurationBucket.kind == kind)
    if permit_type:
        query = query.where(DurationBucket.process_id == permit_type)
    counts: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    late: dict[tuple[str, str], int] = defaultdict(int)
    for process_id, name, bucket, count, overdue in session.execute(
            query.group_by(DurationBucket.process_id, DurationBucket.name, DurationBucket.bucket)):
        counts[(process_id, name)][int(bucket)] = int(count or 0)
        late[(process_id, name)] += int(overdue or 0)
    return {key: (sum(c.values()), bucket_percentile(c, 0.5), bucket_percentile(c, 0.9), late[key])
            for key, c in counts.items() if sum(c.values())}


def step_titles(session: Session, process_ids: set[str]) -> dict[tuple[str, str], str]:
    """The title of each step as its diagrams name it (the latest version wins)."""
    titles: dict[tuple[str, str], str] = {}
    if not process_ids:
        return titles
    for process_id, user_tasks in session.execute(
            select(ProcessDefinition.process_id, ProcessDefinition.user_tasks)
            .where(ProcessDefinition.process_id.in_(process_ids)).order_by(ProcessDefinition.version)):
        for task_name, info in (user_tasks or {}).items():
            titles[(process_id, task_name)] = str((info or {}).get("title") or task_name)
    return titles


def _workload(session: Session, board: Dashboard, now: datetime) -> None:
    lanes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    officers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    is_overdue = case((and_(HumanTask.due_at.is_not(None), HumanTask.due_at < now), 1), else_=0)
    live = (select(HumanTask.lane, HumanTask.claimed_by, func.count(), func.sum(is_overdue))
            .where(open_task()))
    if board.permit_type:
        live = live.where(HumanTask.process_id == board.permit_type)
    for lane, claimed_by, count, late in session.execute(live.group_by(HumanTask.lane, HumanTask.claimed_by)):
        lanes[lane]["open"] += int(count)
        lanes[lane]["overdue"] += int(late or 0)
        if claimed_by:
            lanes[lane]["claimed"] += int(count)
            officers[claimed_by]["claimed"] += int(count)
            officers[claimed_by]["overdue"] += int(late or 0)
    done = select(WorkDay.lane, WorkDay.officer, func.sum(WorkDay.completed)).where(
        WorkDay.day >= board.start, WorkDay.day <= board.end)
    if board.permit_type:
        done = done.where(WorkDay.process_id == board.permit_type)
    for lane, by, count in session.execute(done.group_by(WorkDay.lane, WorkDay.officer)):
        lanes[lane]["completed"] += int(count)
        if by:
            officers[by]["completed"] += int(count)
    board.lanes = [Workload(name, **counts) for name, counts in sorted(lanes.items())]
    names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(list(officers))))
                 .all()) if officers else {}
    board.officers = [Workload(names.get(name, name), **counts) for name, counts in sorted(officers.items())]


def _complaints(session: Session, board: Dashboard, calendar: WorkingCalendar, hours: OfficeHours) -> None:
    open_query = select(func.count()).select_from(Complaint).where(Complaint.status == ComplaintStatus.OPEN)
    since = datetime.combine(board.start, time.min, tzinfo=calendar.timezone)
    until = datetime.combine(board.end + timedelta(days=1), time.min, tzinfo=calendar.timezone)
    answered = select(Complaint.submitted_at, Complaint.answered_at).where(
        Complaint.status == ComplaintStatus.ANSWERED, Complaint.answered_at >= since, Complaint.answered_at < until)
    if board.permit_type:
        open_query = open_query.join(ApplicationFile, ApplicationFile.id == Complaint.file_id).where(
            ApplicationFile.process_id == board.permit_type)
        answered = answered.join(ApplicationFile, ApplicationFile.id == Complaint.file_id).where(
            ApplicationFile.process_id == board.permit_type)
    board.complaints_open = int(session.scalar(open_query) or 0)
    durations = [working_days(calendar, hours, submitted_at, answered_at)
                 for submitted_at, answered_at in session.execute(answered) if answered_at is not None]
    board.complaints_answered = len(durations)
    board.answer_median_days = median(durations)


def step_heat(session: Session, start: date, end: date, process_id: str) -> dict[str, dict[str, Any]]:
    """Per step (BPMN task id) of one procedure: count, median, p90 and overdue rate, for the heat map."""
    heat = {}
    for spread in step_spread(session, start, end, process_id):
        task_name = spread.key.split(":", 1)[1]
        heat[task_name] = {"title": spread.title, "count": spread.count, "median": spread.median, "p90": spread.p90,
                           "overdue": spread.overdue, "overdue_rate": spread.overdue_rate}
    return heat
