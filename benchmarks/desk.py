"""The manager's dashboard at the size of a regency: p95 of /dashboard (the whole page over HTTP,
signed in as a manager), its heat map data and /skm, at 100,000 and at 1,000,000 files, and the ratio.

PostgreSQL only (bulk-seeded with INSERT ... SELECT generate_series). Seeded per file: the file, its
instance, ten history events (10,000,000 history rows at 1,000,000 files), five completed steps
(already rolled up) for each finished file, one open step for the 2 % still open, the file's rollup
row and its steps' rollup rows; then the running figures the dashboard reads, derived from those in
SQL (day counters, duration histograms per day and step, steps completed per day and officer);
5 % of the files answering the survey and a complaint for 1 % of them.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app import create_app
from app.auth.services import create_user
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.desk.rollup import OVERFLOW, RESOLUTION
from app.engine.definitions import deploy_directory
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from benchmarks.run import postgres_url
from tests.web import login

SIZES = [int(n) for n in os.environ.get("BENCH_DESK_FILES", "100000,1000000").split(",")]
RUNS = int(os.environ.get("BENCH_DESK_RUNS", "30"))
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PASSWORD = "bench-password-1"
STEPS = [("register_application", "front_office"), ("check_documents", "verifier"),
         ("verify_business", "verifier"), ("sign_permit", "head"), ("hand_over_permit", "front_office")]


def seed(c: Container, files: int) -> None:
    """``files`` files over the five years before NOW, with their rollups, in a few SQL statements."""
    types = sorted(c.catalogue.entries)
    array = "ARRAY[" + ",".join(f"'{t}'" for t in types) + "]"
    with c.db.engine.begin() as raw:
        conn = _Timed(raw)
        # Bulk seeding of rows whose references hold by construction: no per-row foreign key checks.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL statement_timeout = 0"))  # the app's per-statement limit is for requests
        definition = conn.execute(text("SELECT min(id) FROM process_definition")).scalar_one()
        params = {"n": files, "now": NOW, "definition": definition}
        span = "(interval '1826 days' * (:n - g) / :n)"
        conn.execute(text(f"""
            INSERT INTO process_instance (id, definition_id, status, state, lock_version, started_at, updated_at,
                                          completed_at, started_by)
            SELECT g, :definition, CASE WHEN g % 50 = 0 THEN 'running' ELSE 'completed' END, '{{}}', 1,
                   :now - {span}, :now - {span},
                   CASE WHEN g % 50 = 0 THEN NULL ELSE :now - {span} + interval '1 day' * (1 + g % 15) END, 'bench'
            FROM generate_series(1, :n) g"""), params)
        conn.execute(text(f"""
            INSERT INTO application_file (id, file_number, process_id, applicant_name, instance_id, created_at,
                created_by, applicant, sla_started_at, sla_limit_days, sla_due_at, sla_paused_seconds, sla_stopped_at,
                sla_state, past_legal_limit)
            SELECT g, 'B-' || g, ({array})[1 + g % {len(types)}], 'Pemohon ' || g, g, :now - {span}, 'loket', '{{}}',
                   :now - {span} + interval '1 hour', 10, :now - {span} + interval '14 days', 0,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE :now - {span} + interval '1 day' * (1 + g % 15) END,
                   (ARRAY['on_track','warning','critical','breached'])[1 + g % 4],
                   g % 50 <> 0 AND 1 + g % 15 > 14
            FROM generate_series(1, :n) g"""), params)
        conn.execute(text("""
            INSERT INTO desk_file_rollup (file_id, process_id, received_on, finished_on, working_days, on_time,
                                          fee_assessed, fee_paid)
            SELECT f.id, f.process_id, (f.created_at AT TIME ZONE 'Asia/Jakarta')::date,
                   (f.sla_stopped_at AT TIME ZONE 'Asia/Jakarta')::date,
                   CASE WHEN f.sla_stopped_at IS NULL THEN NULL ELSE (f.id % 97) / 8.0 END,
                   CASE WHEN f.sla_stopped_at IS NULL THEN NULL ELSE NOT f.past_legal_limit END,
                   (f.id % 7) * 50000, CASE WHEN f.id % 3 = 0 THEN 0 ELSE (f.id % 7) * 50000 END
            FROM application_file f"""))
        # The big tables' secondary indexes are built once after their rows, not row by row.
        indexes = conn.execute(text("""
            SELECT indexname, indexdef FROM pg_indexes
            WHERE tablename IN ('instance_event', 'human_task', 'desk_step_rollup')
              AND indexname NOT IN (SELECT conname FROM pg_constraint)""")).all()
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        steps = " UNION ALL ".join(f"SELECT {i} AS n, '{name}' AS task_name, '{lane}' AS lane"
                                   for i, (name, lane) in enumerate(STEPS))
        conn.execute(text("""
            INSERT INTO instance_event (instance_id, at, kind, task_name, actor, detail, seq, prev_hash, row_hash)
            SELECT f.id, f.created_at + interval '1 hour' * e, CASE WHEN e = 1 THEN 'started' ELSE 'task_completed' END,
                   NULL, 'petugas', '{}', e, decode(md5(f.id || '-' || (e - 1)) || md5(f.id::text), 'hex'),
                   decode(md5(f.id || '-' || e) || md5(f.id::text), 'hex')
            FROM application_file f CROSS JOIN generate_series(1, 10) e"""))
        conn.execute(text(f"""
            INSERT INTO human_task (instance_id, task_guid, task_name, process_id, title, lane, status, created_at,
                                    completed_at, completed_by, due_at, sla_state, rolled_up)
            SELECT f.id, md5(f.id || '-' || s.n), s.task_name, f.process_id, s.task_name, s.lane, 'completed',
                   f.created_at + interval '1 day' * s.n,
                   f.created_at + interval '1 day' * s.n + interval '1 hour' * ((f.id + s.n) % 41),
                   'petugas' || (f.id % 12), f.created_at + interval '1 day' * s.n + interval '30 hours', NULL, true
            FROM application_file f CROSS JOIN ({steps}) s WHERE f.sla_stopped_at IS NOT NULL"""))
        conn.execute(text(f"""
            INSERT INTO human_task (instance_id, task_guid, task_name, process_id, title, lane, status, created_at,
                                    claimed_by, due_at, sla_state)
            SELECT f.id, md5(f.id::text), s.task_name, f.process_id, s.task_name, s.lane, 'open', f.created_at,
                   CASE WHEN f.id % 3 = 0 THEN 'petugas' || (f.id % 12) END, f.created_at + interval '3 days', 'on_track'
            FROM application_file f JOIN ({steps}) s ON s.n = f.id % 5 WHERE f.id % 50 = 0"""))
        conn.execute(text("""
            INSERT INTO desk_step_rollup (task_id, process_id, task_name, lane, completed_by, completed_on,
                                          working_days, overdue)
            SELECT t.id, t.process_id, t.task_name, t.lane, t.completed_by,
                   (t.completed_at AT TIME ZONE 'Asia/Jakarta')::date, ((t.instance_id + length(t.task_name)) % 41) / 16.0,
                   t.completed_at > t.due_at
            FROM human_task t WHERE t.status = 'completed'"""))
        conn.execute(text("""
            INSERT INTO desk_day_rollup (day, process_id, received, finished, with_clock, on_time, fee_assessed, fee_paid)
            SELECT day, process_id, sum(received), sum(finished), sum(with_clock), sum(on_time), sum(fee_assessed),
                   sum(fee_paid)
            FROM (SELECT received_on AS day, process_id, 1 AS received, 0 AS finished, 0 AS with_clock, 0 AS on_time,
                         0 AS fee_assessed, 0 AS fee_paid FROM desk_file_rollup
                  UNION ALL
                  SELECT finished_on, process_id, 0, 1, CASE WHEN on_time IS NULL THEN 0 ELSE 1 END,
                         CASE WHEN on_time THEN 1 ELSE 0 END, fee_assessed, fee_paid
                  FROM desk_file_rollup WHERE finished_on IS NOT NULL) x
            GROUP BY day, process_id"""))
        bucket = f"LEAST(ceil(round((greatest(working_days, 0) / {RESOLUTION})::numeric, 6)), {OVERFLOW})"
        conn.execute(text(f"""
            INSERT INTO desk_duration_bucket (day, process_id, kind, name, bucket, count, late)
            SELECT completed_on, process_id, 'step', task_name, {bucket}, count(*), count(*) FILTER (WHERE overdue)
            FROM desk_step_rollup GROUP BY 1, 2, 3, 4, 5
            UNION ALL
            SELECT finished_on, process_id, 'file', '', {bucket}, count(*), count(*) FILTER (WHERE NOT on_time)
            FROM desk_file_rollup WHERE working_days IS NOT NULL GROUP BY 1, 2, 3, 4, 5"""))
        conn.execute(text("""
            INSERT INTO desk_work_day (day, process_id, lane, officer, completed)
            SELECT completed_on, process_id, lane, coalesce(completed_by, ''), count(*)
            FROM desk_step_rollup GROUP BY 1, 2, 3, 4"""))
        conn.execute(text("""
            INSERT INTO skm_response (process_id, answered_on, u_requirements, u_procedure, u_time, u_cost, u_product,
                                      u_competence, u_behaviour, u_complaints, u_facilities)
            SELECT process_id, finished_on, 1 + file_id % 4, 1 + (file_id / 3) % 4, 1 + (file_id / 5) % 4, 3, 4,
                   1 + (file_id / 7) % 4, 3, 2, 1 + (file_id / 11) % 4
            FROM desk_file_rollup WHERE finished_on IS NOT NULL AND file_id % 20 = 0"""))
        conn.execute(text("""
            INSERT INTO complaint (file_id, reference, category, message, submitted_at, status, answer, answered_at,
                                   answered_by)
            SELECT id, 'ADU-' || id, 'waktu', 'Lama', created_at + interval '2 days',
                   CASE WHEN id % 300 = 0 THEN 'open' ELSE 'answered' END, 'Dijawab',
                   CASE WHEN id % 300 = 0 THEN NULL ELSE created_at + interval '4 days' END, 'manajer'
            FROM application_file WHERE id % 100 = 0"""))
        for _, definition_sql in indexes:
            conn.execute(text(definition_sql))
        for table in ("process_instance", "application_file", "human_task", "instance_event", "skm_response",
                      "complaint"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        counts = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("application_file", "instance_event", "human_task", "desk_duration_bucket")}
        print("[desk] rows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
        vacuum.execute(text("SET statement_timeout = 0"))
        vacuum.execute(text("VACUUM ANALYZE"))  # as autovacuum would: index-only scans of the open files


class _Timed:
    """A connection that notes how long each seeding statement took (printed by BENCH_DESK_VERBOSE=1)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, statement: Any, params: Any = None) -> Any:
        started = time.perf_counter()
        result = self.conn.execute(statement, params) if params is not None else self.conn.execute(statement)
        if os.environ.get("BENCH_DESK_VERBOSE"):
            first = " ".join(str(statement).split())[:60]
            print(f"[desk]   {time.perf_counter() - started:6.1f} s  {first}")
        return result


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(0.95 * len(samples) + 0.5) - 1, 0)]


def measure(size: int, tmp: Path) -> dict[str, tuple[float, float]] | None:
    pg = postgres_url()
    if pg is None:
        return None
    url, drop = pg
    try:
        upgrade(url)
        clock = FixedClock(NOW)
        settings = Settings(database_url=url, var_dir=tmp)
        c = Container(settings, clock=clock, publisher=RecordingPublisher())
        with c.db.unit_of_work() as session:
            deploy_directory(session, ROOT / "processes", "bench", clock, c.forms.names())
            create_user(session, "manajer", "Manajer", PASSWORD, role="manager")
        started = time.perf_counter()
        seed(c, size)
        print(f"[desk] seeded {size:,} files in {time.perf_counter() - started:.0f} s")
        app = create_app(settings, clock=clock, publisher=RecordingPublisher())
        app.extensions["ptsp"].db.dispose()
        app.extensions["ptsp"] = c
        client = app.test_client()
        assert login(client, "manajer", PASSWORD).status_code == 302

        def get(path: str) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response.data
            return call

        figures = {
            "/dashboard": timed(get("/dashboard"), RUNS),
            "/dashboard?permit_type=trade_licence": timed(get("/dashboard?permit_type=trade_licence"), RUNS),
            "/dashboard/heat/trade_licence.json": timed(get("/dashboard/heat/trade_licence.json"), RUNS),
            "/skm": timed(get("/skm"), RUNS),
        }
        c.db.dispose()
        return figures
    finally:
        drop()


def run() -> None:
    print(f"\nmanager's dashboard: p50 / p95 in ms over {RUNS} requests (PostgreSQL)")
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-desk-"))
    results = {}
    for size in SIZES:
        figures = measure(size, tmp)
        if figures is None:
            return
        results[size] = figures
        for path, (p50, p95) in figures.items():
            print(f"[desk {size:>9,} files] {path:<40} p50 {p50:7.1f}  p95 {p95:7.1f}")
    if len(SIZES) >= 2:
        small, large = SIZES[0], SIZES[-1]
        for path in results[small]:
            ratio = results[large][path][1] / results[small][path][1]
            print(f"[desk] {path:<40} p95 at {large:,} / p95 at {small:,} = {ratio:.2f}")


if __name__ == "__main__":
    run()
