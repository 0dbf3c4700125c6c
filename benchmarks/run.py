"""``make bench``: the building permit through the service layer and its database,
against the same diagram on raw SpiffWorkflow with a JSON round trip after every
step, in the same process. Prints both rates and ``service/raw = X`` per database.

Databases: SQLite always; PostgreSQL at $BENCH_DATABASE_URL, else the local
server at 127.0.0.1:5432 when it answers.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.auth.models import User
from app.auth.services import create_user
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.files.services import open_file
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from app.worklist.services import complete_task, open_tasks
from tests import samples

# The happy path with one resubmission: (lane, payload) per user task, in order.
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("front_office", samples.REGISTRATION),
    ("verifier", samples.CHECK_INCOMPLETE),
    ("front_office", samples.RESUBMISSION),
    ("verifier", samples.CHECK_COMPLETE),
    ("technical_team", samples.SURVEY),
    ("cashier", samples.PAYMENT),
    ("verifier", samples.DRAFT),
    ("head", samples.SIGN_APPROVE),
    ("front_office", samples.HANDOVER),
]
LANE_USERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
              "cashier": "kasir", "head": "kepala"}


def raw_run(instances: int) -> float:
    """Instances per second on bare SpiffWorkflow, serialising to JSON after every step."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes" / "building_permit.bpmn"))
    spec = parser.get_spec("building_permit")
    subprocesses = parser.get_subprocess_specs("building_permit")
    engine = PythonScriptEngine(environment=TaskDataEnvironment({
        "iso_days": lambda n: f"P{n}D", "round_down": lambda x: int(x // 1)}))
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def round_trip(wf: BpmnWorkflow) -> BpmnWorkflow:
        wf = serializer.deserialize_json(serializer.serialize_json(wf))
        wf.script_engine = engine
        return wf

    started = time.perf_counter()
    for n in range(instances):
        wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        wf.get_tasks(state=TaskState.READY)[0].set_data(file_number=f"PBG-2026-{n:06d}", resubmission_days=14)
        wf.do_engine_steps()
        wf = round_trip(wf)
        for lane, payload in STEPS:
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.lane == lane
            task.set_data(**payload)
            task.run()
            wf.do_engine_steps()
            wf = round_trip(wf)
        assert wf.is_completed()
    return instances / (time.perf_counter() - started)


def service_run(c: Container, instances: int) -> float:
    """Instances per second through the services, one committed unit of work per step."""
    with c.db.unit_of_work() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    started = time.perf_counter()
    for _ in range(instances):
        with c.db.unit_of_work() as session:
            file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket")
            instance_id = file.instance_id
        for lane, payload in STEPS:
            with c.db.unit_of_work() as session:
                user = session.merge(users[LANE_USERS[lane]], load=False)
                task = next(t for t in open_tasks(session, {lane}) if t.instance_id == instance_id)
                complete_task(session, c.runtime, c.forms, task.id, payload, user)
        with c.db.unit_of_work() as session:
            assert c.runtime.get(session, instance_id).status == "completed"  # type: ignore[arg-type]
    return instances / (time.perf_counter() - started)


def prepare(url: str, var_dir: Path) -> Container:
    upgrade(url)
    c = Container(Settings(database_url=url, var_dir=var_dir), clock=FixedClock(), publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "bench", c.clock, c.forms.names())
        for lane, username in LANE_USERS.items():
            create_user(session, username, username, "bench-password", lanes=[lane])
    return c


def postgres_url() -> tuple[str, Callable[[], None]] | None:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"ptsp_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}); skipping it")
        return None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def compare(label: str, c: Container, instances: int) -> None:
    service_run(c, 3)  # warm caches (spec, forms, connections)
    raw_run(3)
    raw = raw_run(instances)
    service = service_run(c, instances)
    print(f"[{label}] raw SpiffWorkflow + JSON round trip: {raw:8.1f} instances/s")
    print(f"[{label}] service layer + database:           {service:8.1f} instances/s")
    print(f"[{label}] service/raw = {service / raw:.2f}")


def main() -> int:
    instances = int(os.environ.get("BENCH_INSTANCES", "100"))
    print(f"building permit, {len(STEPS)} user tasks per instance, {instances} instances per run")
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-"))
    try:
        sqlite = prepare(f"sqlite:///{tmp / 'bench.sqlite'}", tmp)
        compare("sqlite", sqlite, instances)
        sqlite.db.dispose()
        pg = postgres_url()
        if pg is not None:
            url, drop = pg
            try:
                c = prepare(url, tmp)
                compare("postgresql", c, instances)
                c.db.dispose()
            finally:
                drop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from benchmarks.sla import main as sla_main

    sla_main()
    from benchmarks.worklist import run as worklist_run

    worklist_run()
    from benchmarks.desk import run as desk_run

    desk_run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
