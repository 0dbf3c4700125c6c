"""``make bench``: the building permit through the service layer and its database,
against the same diagram on raw SpiffWorkflow with a JSON round trip after every
step, and against the fewest statements a durable step needs (benchmarks/floor.py), in the
same process. Prints the rates and ``service/raw = X (DBAPI floor/raw = F)`` per database.

Databases: SQLite always; PostgreSQL at $BENCH_DATABASE_URL, else the local
server at 127.0.0.1:5432 when it answers.
"""
from __future__ import annotations

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
from benchmarks.floor import Floor
from benchmarks.raw import STEPS, raw_run

LANE_USERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
              "cashier": "kasir", "head": "kepala"}


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


def compare(label: str, c: Container, instances: int, pairs: int) -> tuple[float, float]:
    """Raw, service and the DBAPI floor (benchmarks/floor.py) in rotating blocks of ``instances`` (the
    order turns every pair, so a load swing hits them alike); prints min/median/max of the per-pair
    ratios; returns the medians of service/raw and floor/raw."""
    floor = Floor(c.db.engine)
    runs: dict[str, Callable[[int], float]] = {
        "raw": raw_run, "service": lambda n: service_run(c, n), "floor": floor.run}
    for run in runs.values():
        run(2)  # warm caches (spec, forms, connections)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for _pair in range(pairs):
        for name in order:
            rates[name].append(runs[name](instances))
        order = order[1:] + order[:1]
    service_raw = [s / r for s, r in zip(rates["service"], rates["raw"], strict=True)]
    floor_raw = [f / r for f, r in zip(rates["floor"], rates["raw"], strict=True)]
    service_floor = [s / f for s, f in zip(rates["service"], rates["floor"], strict=True)]
    print(f"[{label}] raw SpiffWorkflow + state round trip: median {statistics.median(rates['raw']):7.1f} instances/s")
    print(f"[{label}] service layer + database:            median {statistics.median(rates['service']):7.1f} instances/s")
    print(f"[{label}] DBAPI floor (fewest durable statements): median {statistics.median(rates['floor']):7.1f} instances/s")
    for name, ratios in (("service/raw", service_raw), ("floor/raw", floor_raw), ("service/floor", service_floor)):
        print(f"[{label}] {name} per pair ({pairs} pairs of {instances}): min {min(ratios):.2f}"
              f"  median {statistics.median(ratios):.2f}  max {max(ratios):.2f}")
    return statistics.median(service_raw), statistics.median(floor_raw)


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
        service, floor = compare("sqlite", sqlite, instances, pairs)
        results.append(f"service/raw = {service:.2f} (DBAPI floor/raw = {floor:.2f})")
        print(f"bytes per finished file = {bytes_per_file(sqlite):,.0f}")
        sqlite.db.dispose()
        pg = postgres_url()
        if pg is not None:
            url, drop = pg
            try:
                c = prepare(url, tmp)
                statements, commits = statements_per_completion(c)
                print(f"[postgresql] statements per completion = {statements:.1f} (COMMITs = {commits:.1f})")
                service, floor = compare("postgresql", c, instances, pairs)
                results.append(f"service/raw [postgresql] = {service:.2f} (DBAPI floor/raw = {floor:.2f})")
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
