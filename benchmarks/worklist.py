"""The worklist with 100,000 open tasks against a baseline of 1,000, in one run.

Open tasks (with their instances and files) are bulk-inserted with SQLAlchemy Core,
spread over the lanes, the steps, two permit types, a month of opening times and
due times (some overdue, some without one, a few claimed). The worklist is then read
through the service and through the HTTP view (Flask test client, signed in) for
several filters; each figure is p50 / p95 in milliseconds, and the 100,000 figures
are divided by the 1,000 ones. At 100,000 two pages are also timed without the
worklist indexes (not in the migrations yet; created here from the model), to show
what they are for.

Databases: SQLite always; PostgreSQL as benchmarks/run.py finds it.
"""
from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Index, func, insert, select, text
from sqlalchemy.engine import Engine

from app import create_app
from app.auth.models import User
from app.auth.services import create_user
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.engine.models import HumanTask, ProcessDefinition, ProcessInstance
from app.files.models import ApplicationFile
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from app.worklist.queries import PageRequest, WorklistFilters, worklist

BASELINE = 1_000
TARGET = int(os.environ.get("BENCH_WORKLIST_TASKS", "100000"))
SERVICE_RUNS = int(os.environ.get("BENCH_WORKLIST_RUNS", "200"))
HTTP_RUNS = max(SERVICE_RUNS // 2, 20)
PASSWORD = "bench-password-1"
NEW_INDEXES = ("ix_human_task_worklist", "ix_human_task_worklist_step")  # not in the migrations yet

# Share of the open tasks per lane and the steps of each lane (building permit).
LANE_SHARE = {"front_office": 0.30, "verifier": 0.25, "technical_team": 0.15, "cashier": 0.15, "head": 0.15}
USERS = {  # username: lanes
    "loket": ["front_office"], "verifikator": ["verifier"], "verifikator2": ["verifier"], "teknis": ["technical_team"],
    "kasir": ["cashier"], "kepala": ["head", "verifier"],
}
HELD_PER_OFFICER = 8
OTHER_PERMIT = "bench_other_permit"  # a second permit type with the same steps: 10 % of the files


@dataclass(frozen=True)
class Scenario:
    label: str
    username: str
    filters: WorklistFilters = field(default_factory=WorklistFilters)
    second_page: bool = False

    def query(self) -> str:
        f = self.filters
        parts = [f"{k}={v}" for k, v in (("permit_type", f.permit_type), ("step", f.step), ("claim", f.claim)) if v]
        if f.overdue:
            parts.append("overdue=1")
        return "?" + "&".join(parts) if parts else ""


SCENARIOS = [
    Scenario("one lane, first page", "verifikator"),
    Scenario("two lanes, first page", "kepala"),
    Scenario("one lane, next page", "verifikator", second_page=True),
    Scenario("overdue only", "verifikator", WorklistFilters(overdue=True)),
    Scenario("claimed by me", "verifikator", WorklistFilters(claim="mine")),
    Scenario("unclaimed", "verifikator", WorklistFilters(claim="unclaimed")),
    Scenario("one step", "loket", WorklistFilters(step="hand_over_refusal")),
    Scenario("other permit type", "verifikator", WorklistFilters(permit_type=OTHER_PERMIT)),
]
HTTP_SCENARIOS = [SCENARIOS[0], SCENARIOS[1], SCENARIOS[3]]


# ---------------------------------------------------------------------------
def prepare(url: str, var_dir: Path) -> Container:
    upgrade(url)
    c = Container(Settings(database_url=url, var_dir=var_dir), clock=FixedClock(), publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "bench", c.clock, c.forms.names())
        permit = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == "building_permit")
                                 .order_by(ProcessDefinition.version.desc())).first()
        assert permit is not None
        session.add(ProcessDefinition(
            process_id=OTHER_PERMIT, name="Izin lain (bench)", version=1, content_hash="bench", source_name="bench",
            bpmn_xml=permit.bpmn_xml, user_tasks=permit.user_tasks, deployed_at=c.clock.now(), deployed_by="bench"))
        for username, lanes in USERS.items():
            create_user(session, username, username.title(), PASSWORD, lanes=lanes)
    _ensure_worklist_index(c.db.engine)
    return c


def _ensure_worklist_index(engine: Engine) -> None:
    """The model's indexes of human_task that the migrations may not have yet."""
    for index in HumanTask.__table__.indexes:
        index.create(engine, checkfirst=True)


def _new_indexes() -> list[Index]:
    return [i for i in HumanTask.__table__.indexes if i.name in NEW_INDEXES]


def _steps_by_lane(c: Container) -> dict[str, list[str]]:
    with c.db.unit_of_work() as session:
        permit = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == "building_permit")
                                 .order_by(ProcessDefinition.version.desc())).first()
        assert permit is not None
        steps: dict[str, list[str]] = {}
        for name, info in permit.user_tasks.items():
            steps.setdefault(info["lane"], []).append(name)
        return steps


def fill(c: Container, upto: int, rng: random.Random) -> None:
    """Bulk-insert open tasks (one instance and one file each) until ``upto`` are open."""
    engine = c.db.engine
    steps = _steps_by_lane(c)
    with engine.begin() as conn:
        definitions = dict(conn.execute(select(ProcessDefinition.process_id, ProcessDefinition.id)).all())
        start = conn.execute(select(func.coalesce(func.max(ProcessInstance.id), 0))).scalar_one()
        open_now = conn.execute(select(func.count()).select_from(HumanTask).where(HumanTask.status == "open")).scalar_one()
        task_start = conn.execute(select(func.coalesce(func.max(HumanTask.id), 0))).scalar_one()
        file_start = conn.execute(select(func.coalesce(func.max(ApplicationFile.id), 0))).scalar_one()
    now = c.clock.now()
    lanes, weights = list(LANE_SHARE), list(LANE_SHARE.values())
    holders = {lane: [u for u, ls in USERS.items() if lane in ls] for lane in LANE_SHARE}
    with engine.connect() as conn:
        held = {row[0]: row[1] for row in conn.execute(
            select(HumanTask.claimed_by, func.count()).where(HumanTask.claimed_by.is_not(None))
            .group_by(HumanTask.claimed_by))}
    batch = 5_000
    count = upto - open_now
    for offset in range(0, count, batch):
        instances, tasks, files = [], [], []
        for n in range(offset, min(offset + batch, count)):
            instance_id, task_id, file_id = start + n + 1, task_start + n + 1, file_start + n + 1
            process = OTHER_PERMIT if rng.random() < 0.10 else "building_permit"
            lane = rng.choices(lanes, weights)[0]
            created = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
            due = None if rng.random() < 0.05 else created + timedelta(hours=rng.randrange(8, 96))
            claimed = None
            if rng.random() < 0.05:  # each officer holds a few tasks, however many are open
                holder = rng.choice(holders[lane])
                if held.get(holder, 0) < HELD_PER_OFFICER:
                    claimed, held[holder] = holder, held.get(holder, 0) + 1
            instances.append({"id": instance_id, "definition_id": definitions[process], "status": "running",
                              "state": "{}", "lock_version": 1, "started_at": created, "updated_at": created,
                              "started_by": "loket"})
            tasks.append({"id": task_id, "instance_id": instance_id, "task_guid": f"bench-{task_id}",
                          "task_name": rng.choice(steps[lane]), "process_id": process, "title": "Langkah bench",
                          "lane": lane, "form": None,
                          "status": "open", "created_at": created, "due_at": due, "claimed_by": claimed,
                          "claimed_at": created if claimed else None})
            files.append({"id": file_id, "file_number": f"BEN-2026-{file_id:07d}", "process_id": process,
                          "applicant_name": f"Pemohon {file_id}", "instance_id": instance_id, "created_at": created,
                          "created_by": "loket", "applicant": {}})
        with engine.begin() as conn:
            conn.execute(insert(ProcessInstance), instances)
            conn.execute(insert(HumanTask), tasks)
            conn.execute(insert(ApplicationFile), files)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------------------
def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def _time_pair(baseline: Callable[[], Any], target: Callable[[], Any], runs: int) -> tuple[tuple[float, float], ...]:
    """p50/p95 of two calls sampled alternately, so that load from elsewhere weighs on both alike."""
    for _ in range(5):
        baseline()  # warm caches and connections
        target()
    samples: tuple[list[float], list[float]] = ([], [])
    for n in range(runs):
        order = ((0, baseline), (1, target)) if n % 2 == 0 else ((1, target), (0, baseline))
        for which, call in order:
            started = time.perf_counter()
            call()
            samples[which].append(time.perf_counter() - started)
    return _percentiles(samples[0]), _percentiles(samples[1])


def service_call(c: Container, scenario: Scenario) -> Callable[[], Any]:
    with c.db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == scenario.username)).one()
        after = None
        if scenario.second_page:
            after = worklist(session, user, scenario.filters, PageRequest(), now=c.clock.now()).next_after

    def call() -> None:
        with c.db.sessions() as session:
            me = session.merge(user, load=False)
            page = worklist(session, me, scenario.filters, PageRequest(after=after), now=c.clock.now())
            assert page.rows or scenario.filters.claim == "mine"

    return call


def http_call(client: FlaskClient, scenario: Scenario) -> Callable[[], Any]:
    path = "/worklist" + scenario.query()

    def call() -> None:
        response = client.get(path)
        assert response.status_code == 200

    return call


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def web_app(c: Container) -> Flask:
    app = create_app(c.settings, clock=c.clock, publisher=c.publisher)
    app.extensions["ptsp"].db.dispose()
    app.extensions["ptsp"] = c
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def bench(label: str, baseline: Container, target: Container) -> None:
    """Fill one database with BASELINE open tasks and the other with TARGET, then time both alike."""
    rng = random.Random(2026)
    fill(baseline, BASELINE, rng)
    started = time.perf_counter()
    fill(target, TARGET, rng)
    filled = time.perf_counter() - started
    print(f"[{label}] worklist latency in ms, p50 / p95, {BASELINE:,} vs {TARGET:,} open tasks "
          f"(inserted in {filled:.0f} s); ratio = {TARGET:,} / {BASELINE:,}")

    def report(name: str, figures: tuple[tuple[float, float], ...]) -> None:
        (b50, b95), (t50, t95) = figures
        print(f"[{label}]   {name:<38} {b50:7.2f} / {b95:7.2f}   {t50:7.2f} / {t95:7.2f}"
              f"   ratio p50 {t50 / b50:5.2f}  p95 {t95 / b95:5.2f}")

    for scenario in SCENARIOS:
        report(f"service: {scenario.label}",
               _time_pair(service_call(baseline, scenario), service_call(target, scenario), SERVICE_RUNS))
    apps = (web_app(baseline), web_app(target))
    for scenario in HTTP_SCENARIOS:
        clients = [signed_in(app, scenario.username) for app in apps]
        report(f"http:    {scenario.label}",
               _time_pair(http_call(clients[0], scenario), http_call(clients[1], scenario), HTTP_RUNS))

    # What the new indexes are for: the same pages at TARGET without them.
    indexes = _new_indexes()
    for index in indexes:
        index.drop(target.db.engine)
    try:
        for scenario in (SCENARIOS[0], SCENARIOS[6]):
            report(f"without new indexes: {scenario.label}",
                   _time_pair(service_call(baseline, scenario), service_call(target, scenario), SERVICE_RUNS))
    finally:
        for index in indexes:
            index.create(target.db.engine)


def run() -> None:
    from benchmarks.run import postgres_url

    print(f"worklist: {TARGET:,} open tasks against a baseline of {BASELINE:,}, {SERVICE_RUNS} samples each")
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-worklist-"))
    containers: list[Container] = []
    drops: list[Callable[[], None]] = []
    try:
        for size in ("baseline", "target"):
            containers.append(prepare(f"sqlite:///{tmp / f'worklist-{size}.sqlite'}", tmp / size))
        bench("sqlite", *containers)
        for c in containers:
            c.db.dispose()
        containers.clear()
        for size in ("baseline", "target"):
            pg = postgres_url()
            if pg is None:
                break
            url, drop = pg
            drops.append(drop)
            containers.append(prepare(url, tmp / f"pg-{size}"))
        if len(containers) == 2:
            bench("postgresql", *containers)
    finally:
        for c in containers:
            c.db.dispose()
        for drop in drops:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
