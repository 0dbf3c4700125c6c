"""The rollup rows equal a recomputation from the raw history, whatever the order in which files
are opened, advanced, finished and rolled up (hypothesis drives a random walk of files)."""
from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.desk.models import DayRollup, DurationBucket, FileRollup, StepRollup, WorkDay
from app.desk.rollup import RefreshCount, refresh, refresh_rollups
from app.desk.services import histograms
from app.engine.models import HumanTask, ProcessInstance
from app.files.models import ApplicationFile
from app.sla.hours import working_time_between
from tests.desk.history import HO_STEPS, SIUP_STEPS, bucket_median, bucket_p90, quantised
from tests.walking import do, open_new, state

DATA = {"trade_licence": dict(SIUP_STEPS), "nuisance_permit": dict(HO_STEPS)}
ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("open"), st.sampled_from(sorted(DATA))),
    st.tuples(st.just("steps"), st.tuples(st.integers(0, 7), st.integers(1, 7))),  # which file, how many steps
    st.tuples(st.just("advance"), st.floats(0.25, 60)),
    st.tuples(st.just("refresh"), st.none()),
), min_size=1, max_size=30)


def expected_rows(c: Container) -> tuple[dict[int, tuple], Counter, dict[int, tuple]]:
    """Per file, per (day, permit type) and per completed step: what the rollups must say."""
    calendar, hours = c.calendar, c.office_calendar.hours
    day = hours.day_length
    files: dict[int, tuple] = {}
    days: Counter = Counter()
    steps: dict[int, tuple] = {}
    with c.db.unit_of_work() as session:
        for f in session.scalars(select(ApplicationFile)):
            instance = session.get_one(ProcessInstance, f.instance_id)
            received = calendar.local_date(f.created_at)
            days[(received, f.process_id, "received")] += 1
            finished = working = on_time = None
            fee = paid = 0
            if instance.status in ("completed", "cancelled"):
                finished = calendar.local_date(f.sla_stopped_at or instance.completed_at or instance.updated_at)
                if f.sla_started_at is not None:
                    assert f.sla_stopped_at is not None and f.sla_due_at is not None
                    ran = working_time_between(calendar, hours, f.sla_started_at, f.sla_stopped_at)
                    working = max(ran - timedelta(seconds=f.sla_paused_seconds), timedelta(0)) / day
                    on_time = f.sla_stopped_at <= f.sla_due_at
                data = c.runtime.data(instance)
                fee = int(data.get("fee") or 0)
                paid = fee if data.get("payment_received") else 0
                days[(finished, f.process_id, "finished")] += 1
                days[(finished, f.process_id, "with_clock")] += on_time is not None
                days[(finished, f.process_id, "on_time")] += on_time is True
                days[(finished, f.process_id, "fee_assessed")] += fee
                days[(finished, f.process_id, "fee_paid")] += paid
            files[f.id] = (f.process_id, received, finished, working, on_time, fee, paid)
        process_of = {f.instance_id: f.process_id for f in session.scalars(select(ApplicationFile))}
        for t in session.scalars(select(HumanTask).where(HumanTask.status == "completed")):
            assert t.completed_at is not None
            steps[t.id] = (process_of[t.instance_id], t.task_name, t.lane, t.completed_by,
                           calendar.local_date(t.completed_at),
                           working_time_between(calendar, hours, t.created_at, t.completed_at) / day,
                           bool(t.due_at and t.completed_at > t.due_at))
    return files, +days, steps


def rollup_rows(c: Container) -> tuple[dict[int, tuple], Counter, dict[int, tuple]]:
    with c.db.unit_of_work() as session:
        files = {r.file_id: (r.process_id, r.received_on, r.finished_on, r.working_days, r.on_time, r.fee_assessed,
                             r.fee_paid) for r in session.scalars(select(FileRollup))}
        days: Counter = Counter()
        for d in session.scalars(select(DayRollup)):
            for name in ("received", "finished", "with_clock", "on_time", "fee_assessed", "fee_paid"):
                days[(d.day, d.process_id, name)] += getattr(d, name)
        steps = {s.task_id: (s.process_id, s.task_name, s.lane, s.completed_by, s.completed_on, s.working_days,
                             s.overdue) for s in session.scalars(select(StepRollup))}
    return files, +days, steps


def same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, abs_tol=1e-9) if isinstance(x, float) and isinstance(y, float) else x == y
        for x, y in zip(a, b, strict=True))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_rollups_equal_a_recomputation_after_a_random_walk(web_app: Flask, deployed: Container, clock: FixedClock,
                                                           actions: list[tuple[str, object]]) -> None:
    numbers: list[str] = []
    for kind, arg in actions:
        if kind == "open":
            numbers.append(open_new(deployed, str(arg)))
        elif kind == "steps" and numbers:
            which, count = arg  # type: ignore[misc]
            number = numbers[which % len(numbers)]
            for _ in range(count):
                current = state(deployed, number)
                if not current.open_tasks:
                    break
                task_name = current.open_tasks[0].task_name
                do(deployed, number, task_name, DATA[current.file.process_id][task_name])
                clock.advance(hours=1.5)
        elif kind == "advance":
            clock.advance(hours=float(arg))  # type: ignore[arg-type]
        elif kind == "refresh":
            refresh_rollups(deployed)
    refresh_rollups(deployed)
    files, days, steps = rollup_rows(deployed)
    want_files, want_days, want_steps = expected_rows(deployed)
    assert set(files) == set(want_files) and all(same(files[k], want_files[k]) for k in files), (files, want_files)
    assert days == want_days
    assert set(steps) == set(want_steps) and all(same(steps[k], want_steps[k]) for k in steps)
    # once up to date, another run finds nothing to do
    again = refresh_rollups(deployed)
    assert (again.files_added, again.files_finished, again.steps_added) == (0, 0, 0)
    assert_running_figures_equal_history(deployed, want_files, want_steps)


def running_figures(c: Container) -> tuple[Counter, Counter]:
    with c.db.unit_of_work() as session:
        buckets: Counter = Counter()
        for b in session.scalars(select(DurationBucket)):
            buckets[(b.day, b.process_id, b.kind, b.name, b.bucket / 4, "count")] += b.count
            buckets[(b.day, b.process_id, b.kind, b.name, b.bucket / 4, "late")] += b.late
        work: Counter = Counter()
        for w in session.scalars(select(WorkDay)):
            work[(w.day, w.process_id, w.lane, w.officer)] += w.completed
    return +buckets, +work


def assert_running_figures_equal_history(c: Container, files: dict[int, tuple], steps: dict[int, tuple]) -> None:
    """Histograms and workload counters, and the medians and p90s read from them, against the raw
    durations recomputed from history (quantised on their own, tests/desk/history.py)."""
    buckets: Counter = Counter()
    work: Counter = Counter()
    durations: dict[tuple[str, str, str], list[float]] = {}
    for process_id, _received, finished, working, on_time, _fee, _paid in files.values():
        if finished is not None and working is not None:
            buckets[(finished, process_id, "file", "", quantised(working), "count")] += 1
            buckets[(finished, process_id, "file", "", quantised(working), "late")] += on_time is False
            durations.setdefault(("file", process_id, ""), []).append(working)
    for process_id, task_name, lane, by, completed_on, working, overdue in steps.values():
        buckets[(completed_on, process_id, "step", task_name, quantised(working), "count")] += 1
        buckets[(completed_on, process_id, "step", task_name, quantised(working), "late")] += overdue
        work[(completed_on, process_id, lane, by or "")] += 1
        durations.setdefault(("step", process_id, task_name), []).append(working)
    assert running_figures(c) == (+buckets, +work)
    with c.db.unit_of_work() as session:
        for kind in ("file", "step"):
            figures = histograms(session, kind, date(2000, 1, 1), date(2100, 1, 1))
            want = {(p, n): v for (k, p, n), v in durations.items() if k == kind}
            assert set(figures) == set(want)
            for key, values in want.items():
                count, med, p90, _late = figures[key]
                assert (count, med, p90) == (len(values), bucket_median(values), bucket_p90(values)), key


def test_a_step_committed_late_is_counted_exactly_once(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    """A step whose transaction commits an hour after its completion time (and after later steps were
    rolled up) is still rolled up, once; runs after that add nothing."""
    number = open_new(deployed, "trade_licence")
    do(deployed, number, "register_application", DATA["trade_licence"]["register_application"])
    clock.advance(hours=2)
    late_task = state(deployed, number).open_tasks[0]
    completed_at = clock.now()
    # a later step commits and is rolled up first
    other = open_new(deployed, "trade_licence")
    clock.advance(hours=1)
    do(deployed, other, "register_application", DATA["trade_licence"]["register_application"])
    refresh_rollups(deployed)
    with deployed.db.unit_of_work() as session:
        assert session.get(StepRollup, late_task.id) is None
        # now the long transaction commits: completed an hour ago by its timestamp
        task = session.get_one(HumanTask, late_task.id)
        task.status, task.completed_at, task.completed_by = "completed", completed_at, "verifikator"
    clock.advance(hours=1)
    assert refresh_rollups(deployed).steps_added == 1
    assert refresh_rollups(deployed).steps_added == 0
    files, _days, steps = expected_rows(deployed)
    assert late_task.id in steps
    rolled = rollup_rows(deployed)[2]
    assert set(rolled) == set(steps) and all(same(rolled[k], steps[k]) for k in steps)
    assert_running_figures_equal_history(deployed, files, steps)


@pytest.mark.commits
def test_two_runs_at_once_count_each_step_once(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    """Overlapping runs (two beat workers) never double count: the second waits for the first's
    transaction, then finds every step already flagged."""
    if deployed.db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    number = open_new(deployed, "nuisance_permit")
    for task_name, data in list(DATA["nuisance_permit"].items())[:3]:
        do(deployed, number, task_name, data)
        clock.advance(hours=2)
    second: list[RefreshCount] = []
    with deployed.db.unit_of_work() as session:
        first = refresh(session, deployed.office_calendar.current(session), deployed.office_calendar.hours,
                        deployed.catalogue, deployed.runtime.data)
        other = threading.Thread(target=lambda: second.append(refresh_rollups(deployed)))
        other.start()
        other.join(0.5)
        assert other.is_alive()  # waiting on the first run's lock
    other.join(20)
    assert first.steps_added == 3 and first.files_added == 1
    assert [(r.files_added, r.steps_added) for r in second] == [(0, 0)]
    files, _days, steps = expected_rows(deployed)
    assert_running_figures_equal_history(deployed, files, steps)
