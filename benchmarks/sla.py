"""SLA benchmarks (``make bench`` calls :func:`main` at the end):

1. The SLA sweep over 100,000 open files (bulk-inserted rows): with none due, with
   1% due (each escalates to ``breached`` and creates its notice and delivery), and
   a naive sweep that reads every open file, as baselines in the same run.
2. Timer precision with a real Celery worker: the delay between a BPMN timer's due
   time and its firing (the wake-up scheduled with an ETA, not the sweep), on the
   embedded broker and, when ``redis-server`` is installed, on a private Redis.

Databases: SQLite always; PostgreSQL as in benchmarks/run.py.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

from app.auth.services import create_user
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.models import InstanceEvent, ProcessInstance
from app.files.models import ApplicationFile
from app.migrate import upgrade
from app.notify.models import Delivery, Notice
from app.ops.models import WorkerHeartbeat
from app.publisher import CeleryPublisher, RecordingPublisher
from app.sla import policy
from app.sla.sweep import sla_sweep
from benchmarks import SECRET_KEY

FILES = int(os.environ.get("BENCH_SLA_FILES", "100000"))
TIMERS = int(os.environ.get("BENCH_TIMERS", "20"))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


# -- 1. the sweep --------------------------------------------------------------------------


def _populate(c: Container, files: int) -> None:
    now = c.clock.now()
    with c.db.unit_of_work() as session:
        create_user(session, "kepala", "Kepala Dinas", "bench-password", lanes=["head"], email="kepala@bench.example")
        calendar, hours = c.office_calendar.current(session), c.office_calendar.hours
        due = now + timedelta(days=20)
        _, next_change = policy.evaluate(calendar, hours, now, due, policy.Thresholds())
        batch = [{
            "file_number": f"PBG-2026-{n:06d}", "process_id": "building_permit", "applicant_name": "Pemohon",
            "created_at": now, "created_by": "bench", "sla_started_at": now, "sla_limit_days": 10,
            "sla_due_at": due, "sla_state": "on_track", "sla_next_check_at": next_change,
        } for n in range(files)]
        for start in range(0, files, 10_000):
            session.execute(insert(ApplicationFile), batch[start:start + 10_000])


def _make_due(c: Container, share: float) -> int:
    """Put ``share`` of the files past their due time, due for the sweep now."""
    now = c.clock.now()
    step = max(1, round(1 / share))
    with c.db.unit_of_work() as session:
        result = session.execute(update(ApplicationFile).where(ApplicationFile.id % step == 0).values(
            sla_due_at=now - timedelta(hours=1), sla_next_check_at=now - timedelta(seconds=1)))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _naive_sweep(c: Container) -> int:
    """What a sweep without the indexed next-check column would do: read every open
    file and evaluate its state (no writes)."""
    now = c.clock.now()
    with c.db.unit_of_work() as session:
        calendar, hours = c.office_calendar.current(session), c.office_calendar.hours
        changed = 0
        thresholds = policy.Thresholds()
        for state, due in session.execute(select(ApplicationFile.sla_state, ApplicationFile.sla_due_at).where(
                ApplicationFile.sla_stopped_at.is_(None), ApplicationFile.sla_due_at.is_not(None))):
            changed += policy.evaluate(calendar, hours, now, due, thresholds)[0] != state
        return changed


def _time(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def sweep_benchmark(label: str, url: str, var_dir: Path) -> None:
    upgrade(url)
    c = Container(Settings(database_url=url, var_dir=var_dir), clock=FixedClock(), publisher=RecordingPublisher())
    try:
        started = time.perf_counter()
        _populate(c, FILES)
        print(f"[{label}] {FILES:,} open files bulk-inserted in {time.perf_counter() - started:.1f} s")
        sla_sweep(c)  # warm up (connections, calendar, holidays)
        idle = _time(lambda: sla_sweep(c), 20)
        naive = _time(lambda: _naive_sweep(c), 1)
        due = _make_due(c, 0.01)
        started = time.perf_counter()
        result = sla_sweep(c)
        busy = time.perf_counter() - started
        with c.db.unit_of_work() as session:
            notices = session.scalar(select(func.count()).select_from(Notice))
            deliveries = session.scalar(select(func.count()).select_from(Delivery))
        assert result.files_changed == due == notices == deliveries, (result, due, notices, deliveries)
        after = _time(lambda: sla_sweep(c), 5)
        print(f"[{label}] sweep, none due:            {_ms(idle)}")
        print(f"[{label}] sweep, 1% due ({due:,} files -> breached, {notices:,} notices + deliveries): {_ms(busy)}"
              f"  ({busy / due * 1000:.3f} ms per changed file)")
        print(f"[{label}] sweep, none due again:      {_ms(after)}")
        print(f"[{label}] naive full scan (read + evaluate every open file, no writes): {_ms(naive)}")
        print(f"[{label}] ratios: 1% due / none due = {busy / idle:.0f}x; "
              f"naive scan / indexed sweep (none due) = {naive / idle:.0f}x; "
              f"naive scan / indexed sweep (1% due) = {naive / busy:.1f}x")
    finally:
        c.db.dispose()


# -- 2. timer precision with a real worker ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PTSP_DATABASE_URL": settings.database_url, "PTSP_BROKER_URL": settings.broker_url,
           "PTSP_VAR_DIR": str(settings.var_dir), "PTSP_HEARTBEAT_SECONDS": "1", "PTSP_SECRET_KEY": SECRET_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--beat",
         f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}", "--hostname=bench@%h",
         "-s", str(log_path.with_suffix(".schedule"))],
        cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the embedded beat, if left behind


def timer_benchmark(label: str, settings: Settings, log_path: Path) -> None:
    upgrade(settings.database_url)
    c = Container(settings, publisher=CeleryPublisher(settings.broker_url))
    proc = _worker(settings, log_path)
    try:
        with c.db.unit_of_work() as session:
            deploy_diagram(session, (ROOT / "tests" / "engine" / "fixtures" / "wait_with_timer.bpmn").read_bytes(),
                           "wait_with_timer.bpmn", "bench", c.clock)
        ready = time.monotonic() + 60
        while time.monotonic() < ready:  # the worker is up once its heartbeat is written
            with c.db.unit_of_work() as session:
                if session.scalar(select(func.count()).select_from(WorkerHeartbeat)):
                    break
            time.sleep(0.2)
        else:
            print(f"[{label}] the worker did not start within 60 s; see {log_path}")
            return
        # Timers scheduled now fire in 3 to 6 s; the timer sweep (every 30 s) is not what fires them.
        due: dict[int, object] = {}
        for n in range(TIMERS):
            with c.db.unit_of_work() as session:
                definition = latest_definition(session, "wait_with_timer")
                assert definition is not None
                wait = 3 + (n % 4)
                instance = c.runtime.start(session, definition, {"wait_for": f"PT{wait}S"}, "bench")
                due[instance.id] = instance.next_timer_at
        deadline = time.monotonic() + 60
        fired: dict[int, object] = {}
        while len(fired) < len(due) and time.monotonic() < deadline:
            time.sleep(0.5)
            with c.db.unit_of_work() as session:
                fired = {i: at for i, at in session.execute(select(InstanceEvent.instance_id, InstanceEvent.at).where(
                    InstanceEvent.kind == "timer_fired"))}
        if len(fired) < len(due):
            print(f"[{label}] only {len(fired)} of {len(due)} timers fired within 60 s; see {log_path}")
            return
        delays = sorted((fired[i] - due[i]).total_seconds() for i in due)  # type: ignore[operator]
        p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
        with c.db.unit_of_work() as session:
            statuses = set(session.scalars(select(ProcessInstance.status)))
        print(f"[{label}] timer due -> fired, {len(delays)} timers: median {_ms(statistics.median(delays))}, "
              f"p95 {_ms(p95)}, max {_ms(delays[-1])}; max / 2 s target = {delays[-1] / 2:.3f}; "
              f"max / timer sweep interval ({settings.timer_sweep_seconds:.0f} s) = "
              f"{delays[-1] / settings.timer_sweep_seconds:.4f}; instances {sorted(statuses)}")
    finally:
        _stop(proc)
        c.db.dispose()


def _private_redis(tmp: Path) -> tuple[str, subprocess.Popen[bytes]] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = _free_port()
    (tmp / "redis").mkdir()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp / "redis")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    for _ in range(50):
        try:
            if redis.Redis(port=port).ping():
                return f"redis://127.0.0.1:{port}/0", proc
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.terminate()
    return None


def main() -> int:
    from benchmarks.run import postgres_url

    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-sla-"))
    try:
        print(f"\nSLA sweep over {FILES:,} open files")
        sweep_benchmark("sqlite", f"sqlite:///{tmp / 'sweep.sqlite'}", tmp)
        pg = postgres_url()
        if pg is not None:
            url, drop = pg
            try:
                sweep_benchmark("postgresql", url, tmp)
            finally:
                drop()

        print(f"\nTimer precision with a real Celery worker ({TIMERS} timers of 3-6 s)")
        embedded = Settings(database_url=f"sqlite:///{tmp / 'timers.sqlite'}",
                            broker_url=f"sqla+sqlite:///{tmp / 'broker.sqlite'}", var_dir=tmp / "var-embedded")
        timer_benchmark("embedded broker + sqlite", embedded, tmp / "worker-embedded.log")
        redis = _private_redis(tmp)
        if redis is None:
            print("redis-server not available; skipping Redis")
        else:
            broker_url, redis_proc = redis
            try:
                on_redis = Settings(database_url=f"sqlite:///{tmp / 'timers-redis.sqlite'}", broker_url=broker_url,
                                    var_dir=tmp / "var-redis")
                timer_benchmark("redis + sqlite", on_redis, tmp / "worker-redis.log")
            finally:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
