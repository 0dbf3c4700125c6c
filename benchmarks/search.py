"""Finding a file among a regency's files: p50/p95 of the files page's queries (number, NIK,
one name word, two name words, filtered list) at 1,000,000 files on PostgreSQL, interleaved
with the same queries at 10,000 files so machine load hits both alike; prints the large/small
ratio and whether every plan uses an index (no sequential scan of the big tables).

$BENCH_SEARCH_FILES sets the large size (default 1,000,000).
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.files.search import PAGE_SIZE as PAGE
from app.files.search import FileQuery, search_files, search_statement
from app.migrate import upgrade
from app.publisher import RecordingPublisher

FIRST = ["Siti", "Sri", "Budi", "Agus", "Dewi", "Joko", "Rina", "Eko", "Wahyu", "Ani", "Tri", "Dwi", "Nur", "Ahmad",
         "Muhammad", "Retno", "Bambang", "Yusuf", "Hartono", "Suparman", "Lestari", "Rahmat", "Indah", "Putri"]
LAST = ["Rahmawati", "Wahyuni", "Susilo", "Prasetyo", "Lestari", "Marlina", "Hidayat", "Wulandari", "Santoso",
        "Saputra", "Kurniawan", "Setiawan", "Nugroho", "Purnomo", "Handayani", "Sulistyo", "Pratama", "Utami",
        "Suryani", "Wibowo", "Gunawan", "Hartati", "Yulianti", "Firmansyah", "Ramadhan", "Maharani", "Anggraini"]
PROCESSES = ["building_permit", "nuisance_permit", "trade_licence", "advertisement_permit", "road_use_permit"]
SLA = ["on_track", "warning", "critical", "breached"]
RUNS = 60


def fill(c: Container, files: int) -> None:
    """``files`` application files (with name terms) written by the database itself."""
    first = "ARRAY[" + ",".join(f"'{n}'" for n in FIRST) + "]"
    last = "ARRAY[" + ",".join(f"'{n}'" for n in LAST) + "]"
    procs = "ARRAY[" + ",".join(f"'{p}'" for p in PROCESSES) + "]"
    sla = "ARRAY[" + ",".join(f"'{s}'" for s in SLA) + "]"
    with c.db.engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO application_file (id, file_number, process_id, applicant_name, created_at, created_by,
                                          applicant_nik, applicant, sla_state, sla_due_at, sla_paused_seconds,
                                          past_legal_limit)
            SELECT i, 'PBG-' || (2024 + i % 3) || '-' || lpad(i::text, 7, '0'),
                   ({procs})[1 + i % {len(PROCESSES)}],
                   ({first})[1 + (i * 7) % {len(FIRST)}] || ' ' || ({last})[1 + (i * 13) % {len(LAST)}]
                       || ' ' || 'x' || (i % 50000),
                   timestamptz '2024-01-01' + (i * interval '90 seconds'), 'bench',
                   lpad((3314000000000000 + i)::text, 16, '0'), '{{}}'::json,
                   ({sla})[1 + i % 4], timestamptz '2024-01-15' + (i * interval '90 seconds'), 0, false
            FROM generate_series(1, {files}) AS i"""))
        for word in (f"lower(({first})[1 + (i * 7) % {len(FIRST)}])", f"lower(({last})[1 + (i * 13) % {len(LAST)}])",
                     "'x' || (i % 50000)"):
            conn.execute(text(f"""
                INSERT INTO file_search_term (term, file_id, created_at)
                SELECT {word}, i, timestamptz '2024-01-01' + (i * interval '90 seconds')
                FROM generate_series(1, {files}) AS i ON CONFLICT DO NOTHING"""))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('application_file', 'id'), :n)"), {"n": files})
    with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE application_file"))
        conn.execute(text("VACUUM ANALYZE file_search_term"))


def queries(files: int, rng: random.Random) -> dict[str, Callable[[], FileQuery]]:
    def number() -> FileQuery:
        i = rng.randrange(1, files + 1)
        return FileQuery(text=f"PBG-{2024 + i % 3}-{i:07d}")

    return {
        "file number": number,
        "NIK": lambda: FileQuery(text=f"{3314000000000000 + rng.randrange(1, files + 1):016d}"),
        "one name word": lambda: FileQuery(text=rng.choice(FIRST + LAST)),
        "two name words": lambda: FileQuery(text=f"{rng.choice(FIRST)} {rng.choice(LAST)[:4]}"),
        "rare word": lambda: FileQuery(text=f"x{rng.randrange(50000)}"),
        "list: type + deadline": lambda: FileQuery(permit_type=rng.choice(PROCESSES), sla_state=rng.choice(SLA)),
        "list: newest": lambda: FileQuery(),
    }


def _plan_uses_indexes(c: Container, query: FileQuery) -> bool:
    statement, _ = search_statement(query, calendar=c.calendar, now=c.clock.now())
    with c.db.engine.connect() as conn:
        compiled = statement.limit(PAGE).compile(conn)
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    return "Seq Scan on application_file" not in plan and "Seq Scan on file_search_term" not in plan


def run() -> None:
    from benchmarks.run import postgres_url

    large_n = int(os.environ.get("BENCH_SEARCH_FILES", "1000000"))
    small_n = 10_000
    dbs = []
    try:
        with tempfile.TemporaryDirectory(prefix="ptsp-search-") as tmp:
            containers = []
            for n in (small_n, large_n):
                pg = postgres_url()
                if pg is None:
                    print("file search: PostgreSQL not available; skipped")
                    return
                url, drop = pg
                dbs.append(drop)
                upgrade(url)
                c = Container(Settings(database_url=url, var_dir=Path(tmp)),
                              clock=FixedClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),
                              publisher=RecordingPublisher())
                with c.db.unit_of_work() as session:
                    deploy_directory(session, ROOT / "processes", "bench", c.clock, c.forms.names())
                started = time.perf_counter()
                fill(c, n)
                print(f"file search: {n:,} files written in {time.perf_counter() - started:.0f} s")
                containers.append((n, c))
            rng = random.Random(7)
            print(f"file search ({RUNS} queries per kind, interleaved {small_n:,} / {large_n:,} files), ms:")
            worst = 0.0
            all_indexed = True
            for kind, make in queries(large_n, rng).items():
                timings: dict[int, list[float]] = {small_n: [], large_n: []}
                for i in range(RUNS):
                    query = make()
                    order = containers if i % 2 == 0 else containers[::-1]
                    for n, c in order:
                        with c.db.sessions() as session:
                            started = time.perf_counter()
                            search_files(session, query, calendar=c.calendar, now=c.clock.now())
                            timings[n].append((time.perf_counter() - started) * 1000)
                indexed = _plan_uses_indexes(containers[1][1], make())
                all_indexed &= indexed
                small, large = (sorted(timings[small_n]), sorted(timings[large_n]))
                p95_small, p95_large = small[int(0.95 * (RUNS - 1))], large[int(0.95 * (RUNS - 1))]
                worst = max(worst, p95_large)
                print(f"  {kind:24s} p50 {statistics.median(large):6.1f}  p95 {p95_large:6.1f}"
                      f"  (at {small_n:,}: p95 {p95_small:5.1f}; ratio {p95_large / p95_small:4.2f})"
                      f"  plan {'index' if indexed else 'SEQ SCAN'}")
            print(f"file search p95 at {large_n:,} files = {worst:.1f} ms (worst kind; aim < 100 ms)"
                  f"; every plan indexed = {all_indexed}")
            for _, c in containers:
                c.db.dispose()
    finally:
        for drop in dbs:
            drop()


if __name__ == "__main__":
    run()
