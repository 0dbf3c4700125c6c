"""A month of office history, made by walking real files through their procedures with a moving
clock, and the dashboard's figures recomputed from that raw history (never from the rollups)."""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.clock import FixedClock
from app.complaints.models import Complaint
from app.container import Container
from app.engine.models import HumanTask, ProcessInstance
from app.files.models import ApplicationFile
from app.sla.hours import working_time_between
from app.sla.sweep import sla_sweep
from app.worklist.completion import claim_task
from tests.catalogue import samples as s
from tests.walking import do, open_new, state

SIUP_STEPS = [("register_application", s.SIUP_REGISTRATION), ("check_documents", s.SIUP_CHECK),
              ("verify_business", s.SIUP_VERIFICATION), ("sign_permit", s.SIGN_APPROVE),
              ("hand_over_permit", s.HANDOVER)]
HO_STEPS = [("register_application", s.HO_REGISTRATION), ("check_documents", s.HO_CHECK),
            ("survey_nuisance", s.HO_SURVEY), ("confirm_payment", s.PAYMENT),
            ("draft_nuisance_permit", s.HO_DRAFT), ("sign_permit", s.SIGN_APPROVE), ("hand_over_permit", s.HANDOVER)]


def walk(c: Container, clock: FixedClock, number: str, steps: list[tuple[str, dict[str, Any]]],
         hours_between: list[float]) -> None:
    for (task_name, data), hours in zip(steps, hours_between, strict=False):
        clock.advance(hours=hours)
        do(c, number, task_name, data)


def seed_month(c: Container, clock: FixedClock) -> dict[str, str]:
    """Five files in January 2026: three finished (one late, one with a paid fee), two open
    (one with its clock running and its step claimed, one not yet checked); two complaints."""
    files = {}
    files["siup_fast"] = open_new(c, "trade_licence", "Budi Santoso")
    walk(c, clock, files["siup_fast"], SIUP_STEPS, [0.5, 1, 2, 1, 1])
    files["siup_late"] = open_new(c, "trade_licence", "Ani Suryani")
    walk(c, clock, files["siup_late"], SIUP_STEPS[:3], [0.5, 1, 3])
    clock.advance(days=7)  # the head signs a week later: past the 3 working days
    walk(c, clock, files["siup_late"], SIUP_STEPS[3:], [1, 2])
    files["ho_paid"] = open_new(c, "nuisance_permit", "Siti Rahmawati")
    walk(c, clock, files["ho_paid"], HO_STEPS, [1, 1, 20, 2, 3, 1, 1])
    files["siup_open"] = open_new(c, "trade_licence", "Dedi Kurniawan")
    walk(c, clock, files["siup_open"], SIUP_STEPS[:2], [1, 1])
    files["ho_open"] = open_new(c, "nuisance_permit", "Rudi Hartono")
    walk(c, clock, files["ho_open"], HO_STEPS[:1], [1])
    with c.db.unit_of_work() as session:
        verifier = session.scalars(select(User).where(User.username == "verifikator")).one()
        [task] = [t for t in state(c, files["siup_open"]).open_tasks]
        claim_task(session, task.id, verifier, clock.now())
        file_id = session.scalars(select(ApplicationFile.id).where(
            ApplicationFile.file_number == files["siup_fast"])).one()
        submitted = clock.now() - timedelta(days=2)
        session.add(Complaint(file_id=file_id, reference="ADU-1", category="waktu", message="Lama sekali prosesnya.",
                              submitted_at=submitted, status="answered", answer="Mohon maaf, sudah selesai.",
                              answered_at=submitted + timedelta(hours=26), answered_by="manajer"))
        session.add(Complaint(file_id=file_id, reference="ADU-2", category="biaya", message="Biaya tidak jelas.",
                              submitted_at=clock.now(), status="open"))
    clock.advance(days=4)
    sla_sweep(c)
    return files


def nearest_rank_p90(values: list[float]) -> float:
    """The smallest value with at least 90% of the values at or below it."""
    return min(v for v in values if sum(1 for w in values if w <= v) >= 0.9 * len(values))


@dataclass
class Expected:
    received: int = 0
    finished: int = 0
    on_time: int = 0
    with_clock: int = 0
    steps: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    steps_overdue: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    procedures: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lanes_open: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lanes_completed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    officers_completed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    open_by_state: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fees: dict[str, tuple[int, int]] = field(default_factory=dict)


def recompute(c: Container, start: date, end: date, permit_type: str | None = None) -> Expected:
    """The dashboard's figures straight from files, steps and instances."""
    calendar, hours = c.calendar, c.office_calendar.hours
    day = hours.day_length
    out = Expected()

    def in_period(when: datetime | None) -> bool:
        return when is not None and start <= calendar.local_date(when) <= end

    with c.db.unit_of_work() as session:
        files = session.scalars(select(ApplicationFile)).all()
        by_instance = {f.instance_id: f for f in files}
        for f in files:
            if permit_type and f.process_id != permit_type:
                continue
            out.received += in_period(f.created_at)
            instance = session.get_one(ProcessInstance, f.instance_id)
            if instance.status == "completed" and in_period(instance.completed_at):
                out.finished += 1
                if f.sla_started_at is not None:
                    assert f.sla_stopped_at is not None and f.sla_due_at is not None
                    out.with_clock += 1
                    out.on_time += f.sla_stopped_at <= f.sla_due_at
                    ran = working_time_between(calendar, hours, f.sla_started_at, f.sla_stopped_at)
                    out.procedures[f.process_id].append((ran - timedelta(seconds=f.sla_paused_seconds)) / day)
                data = c.runtime.data(instance)
                fee = int(data.get("fee") or 0)
                assessed, paid = out.fees.get(f.process_id, (0, 0))
                out.fees[f.process_id] = (assessed + fee, paid + (fee if data.get("payment_received") else 0))
            elif instance.status == "running" and f.sla_started_at is not None:
                out.open_by_state[f.sla_state or ""] += 1
        for t in session.scalars(select(HumanTask)):
            f = by_instance[t.instance_id]
            if permit_type and f.process_id != permit_type:
                continue
            if t.status == "open":
                out.lanes_open[t.lane] += 1
            elif t.status == "completed" and in_period(t.completed_at):
                assert t.completed_at is not None
                key = (f.process_id, t.task_name)
                out.steps[key].append(working_time_between(calendar, hours, t.created_at, t.completed_at) / day)
                out.steps_overdue[key] += bool(t.due_at and t.completed_at > t.due_at)
                out.lanes_completed[t.lane] += 1
                out.officers_completed[t.completed_by or ""] += 1
    return out


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, abs_tol=1e-9)


def quantised(value: float) -> float:
    """A duration at the dashboard's resolution, computed here on its own: rounded up to the next
    quarter of a working day; anything over 30 working days reads 30.25."""
    quarters = math.ceil(round(max(value, 0.0) * 4, 6))
    return min(quarters, 121) / 4


def nearest_rank(values: list[float], q: float) -> float:
    """The smallest value with at least ``q`` of the values at or below it."""
    return min(v for v in values if sum(1 for w in values if w <= v) >= q * len(values))


def bucket_median(values: list[float]) -> float:
    """The dashboard's median: the nearest-rank median (lower middle for an even count) at its resolution."""
    return nearest_rank([quantised(v) for v in values], 0.5)


def bucket_p90(values: list[float]) -> float:
    return nearest_rank([quantised(v) for v in values], 0.9)
