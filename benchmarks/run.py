"""``make bench``: the building permit through the service layer and its database,
against the same diagram on raw SpiffWorkflow with a JSON round trip after every
step, in the same process. Prints both rates and ``service/raw = X`` per database.

Databases: SQLite always; PostgreSQL at $BENCH_DATABASE_URL, else the local
server at 127.0.0.1:5432 when it answers.
"""
from __future__ import annotations

import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url

from app.auth.models import User
from app.auth.services import create_user
from app.auth.tokens import issue_token, user_for_token
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.files.services import open_file
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from app.worklist.completion import complete_task
from app.worklist.queries import open_tasks
from tests import samples

STEPS = samples.BUILDING_PERMIT_WALK
LANE_USERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
              "cashier": "kasir", "head": "kepala"}


def raw_run(instances: int) -> float:
    """Instances per second on bare SpiffWorkflow, storing the state after every step the way the
    service does (the task tree and data only; the parsed spec cached), so that service/raw
    measures the service's own overhead (database, forms, SLA clock, history)."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
    from SpiffWorkflow.util.task import TaskState

    from app.engine.spiff import dump_state, load_state

    spec, subprocesses = _raw_spec()
    engine = PythonScriptEngine(environment=TaskDataEnvironment({
        "iso_days": lambda n: f"P{n}D", "round_down": lambda x: int(x // 1)}))

    def round_trip(wf: BpmnWorkflow) -> BpmnWorkflow:
        return load_state(dump_state(wf), spec, subprocesses, engine)

    started = time.perf_counter()
    for n in range(instances):
        wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        wf.get_tasks(state=TaskState.READY)[0].set_data(file_number=f"PBG-2026-{n:06d}", file_serial=f"2026/{n + 1:06d}",
                                                        resubmission_days=14)
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


@functools.cache
def _raw_spec() -> tuple[Any, dict[str, Any]]:
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes" / "building_permit.bpmn"))
    return parser.get_spec("building_permit"), parser.get_subprocess_specs("building_permit")


class StatementCounter:
    """Counts the SQL statements (and COMMITs) an engine runs while ``counting`` is set."""

    def __init__(self, engine: Engine) -> None:
        self.statements = self.commits = 0
        self.counting = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args: Any) -> None:
        if self.counting:
            self.statements += 1

    def _commit(self, *_args: Any) -> None:
        if self.counting:
            self.commits += 1


def service_run(c: Container, instances: int, counter: StatementCounter | None = None) -> float:
    """Instances per second through the services, one committed unit of work per step; each step
    as the API does it: the bearer token's user, then the completion, then the commit. Only that
    work is timed (and opening the file, the API's first call): the harness finding each task's
    id and checking the end state happen outside the clock, so service/raw compares the service's
    own cost with raw SpiffWorkflow's."""
    tokens = _tokens(c)
    elapsed = 0.0
    for _ in range(instances):
        started = time.perf_counter()
        with c.db.unit_of_work() as session:
            file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket")
            instance_id = file.instance_id
        elapsed += time.perf_counter() - started
        for lane, payload in STEPS:
            with c.db.unit_of_work() as session:  # the harness, not timed
                task_id = next(t.id for t in open_tasks(session, {lane}) if t.instance_id == instance_id)
            if counter is not None:
                counter.counting = True
            started = time.perf_counter()
            with c.db.unit_of_work() as session:
                user = user_for_token(session, tokens[lane], c.clock)
                assert user is not None
                complete_task(session, c.runtime, c.forms, task_id, payload, user)
            elapsed += time.perf_counter() - started
            if counter is not None:
                counter.counting = False
        with c.db.unit_of_work() as session:
            assert c.runtime.get(session, instance_id).status == "completed"  # type: ignore[arg-type]
    return instances / elapsed


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


_TOKENS: dict[int, dict[str, str]] = {}


def _tokens(c: Container) -> dict[str, str]:
    """One API token per lane's officer, issued once per database."""
    if id(c) not in _TOKENS:
        with c.db.unit_of_work() as session:
            _TOKENS[id(c)] = {lane: issue_token(session, session.scalars(select(User).where(
                User.username == username)).one(), "bench", c.clock) for lane, username in LANE_USERS.items()}
    return _TOKENS[id(c)]


def compare(label: str, c: Container, instances: int, pairs: int) -> float:
    """Raw and service in alternating blocks of ``instances`` (the order flips every pair, so a
    load swing hits both alike); prints min/median/max of the per-pair ratio; returns the median."""
    service_run(c, 2)  # warm caches (spec, forms, connections)
    raw_run(2)
    ratios, raws, services = [], [], []
    for pair in range(pairs):
        if pair % 2:
            service, raw = service_run(c, instances), raw_run(instances)
        else:
            raw, service = raw_run(instances), service_run(c, instances)
        raws.append(raw)
        services.append(service)
        ratios.append(service / raw)
    print(f"[{label}] raw SpiffWorkflow + state round trip: median {statistics.median(raws):7.1f} instances/s")
    print(f"[{label}] service layer + database:            median {statistics.median(services):7.1f} instances/s")
    print(f"[{label}] service/raw per pair ({pairs} pairs of {instances}): min {min(ratios):.2f}"
          f"  median {statistics.median(ratios):.2f}  max {max(ratios):.2f}")
    return statistics.median(ratios)


def _compacted_size(c: Container) -> int:
    """The database's size in bytes after a checkpoint/vacuum (PostgreSQL: VACUUM FULL)."""
    c.db.dispose()
    url = c.db.engine.url
    if url.get_backend_name() == "sqlite":
        import sqlite3

        # In WAL mode VACUUM's result goes to the WAL: checkpoint again after it, and close the
        # connection (``with`` alone only commits), before reading the file's size.
        conn = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return Path(str(url.database)).stat().st_size
    with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # The bench's own tables only: a bare VACUUM FULL also rewrites the catalogs every database
        # shares (pg_database...), whose exclusive lock waits on any other database's connections
        # and ran into the lock timeout while the test suite ran beside it.
        tables = conn.execute(text("SELECT quote_ident(relname) FROM pg_catalog.pg_stat_user_tables")).scalars()
        conn.execute(text(f"VACUUM FULL {', '.join(tables)}"))
        return int(conn.execute(text(
            "SELECT sum(pg_total_relation_size(relid)) FROM pg_catalog.pg_statio_user_tables")).scalar_one())


def bytes_per_file(c: Container, files: int = int(os.environ.get("BENCH_FOOTPRINT_FILES", "60"))) -> float:
    """What one finished building permit adds to the database, compacted. Sizes grow by whole
    pages (8 KB on PostgreSQL, 4 KB on SQLite): over 60 files a page is ~140 bytes per file
    (over 20 it was ~400, and the figure swung between runs by that much)."""
    before = _compacted_size(c)
    service_run(c, files)
    return (_compacted_size(c) - before) / files


def statements_per_completion(c: Container) -> tuple[float, float]:
    """Mean SQL statements and COMMITs per task completion over one whole building permit."""
    service_run(c, 1)  # tokens used once: their "last used" is then current (see LAST_USED_RESOLUTION)
    counter = StatementCounter(c.db.engine)
    service_run(c, 1, counter)
    return counter.statements / len(STEPS), counter.commits / len(STEPS)


def main() -> int:
    instances = int(os.environ.get("BENCH_INSTANCES", "10"))
    pairs = int(os.environ.get("BENCH_PAIRS", "12"))
    print(f"building permit, {len(STEPS)} user tasks per instance, {pairs} interleaved pairs of {instances} instances")
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-"))
    results: list[str] = []
    try:
        sqlite = prepare(f"sqlite:///{tmp / 'bench.sqlite'}", tmp)
        statements, commits = statements_per_completion(sqlite)
        print(f"statements per completion = {statements:.1f} (COMMITs per completion = {commits:.1f})")
        results.append(f"service/raw = {compare('sqlite', sqlite, instances, pairs):.2f}")
        print(f"bytes per finished file = {bytes_per_file(sqlite):,.0f}")
        sqlite.db.dispose()
        pg = postgres_url()
        if pg is not None:
            url, drop = pg
            try:
                c = prepare(url, tmp)
                statements, commits = statements_per_completion(c)
                print(f"[postgresql] statements per completion = {statements:.1f} (COMMITs = {commits:.1f})")
                results.append(f"service/raw [postgresql] = {compare('postgresql', c, instances, pairs):.2f}")
                print(f"[postgresql] bytes per finished file = {bytes_per_file(c):,.0f}")
                c.db.dispose()
            finally:
                drop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from benchmarks.sla import main as sla_main

    sla_main()
    from benchmarks.worklist import run as worklist_run

    worklist_run()
    from benchmarks.search import run as search_run

    search_run()
    from benchmarks.scripts import main as scripts_main

    scripts_main()
    from benchmarks.workers import run as workers_run

    workers_line = workers_run()
    if workers_line is not None:
        results.append(workers_line)
    from benchmarks.desk import run as desk_run

    desk_run()
    from benchmarks.startup import run as startup_run

    results[:0] = startup_run()
    from benchmarks.http import bench as http_bench

    results += http_bench()
    print("\n".join(results))  # the headline figures last
    return 0


if __name__ == "__main__":
    sys.exit(main())
