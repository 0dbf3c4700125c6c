"""How throughput grows from 1 to 3 Celery workers (issue 13 §6), on PostgreSQL + Redis.

The work is what workers do all day: firing the timers inside the diagrams. Each block starts
``BENCH_WORKER_TIMERS`` instances of a diagram waiting on a one-second timer (from this process,
no job sent), waits until every timer is due, then sends one ``fire_timers`` job per instance and
times until every instance has completed. Blocks with 1 worker and with 3 workers alternate (the
order flips every round, so a swing of the machine's load hits both alike); each worker is a real
``celery worker --pool=solo`` process, started and answering a ping before its block's clock starts.
Prints timers fired per second for each and min/median/max of the per-round ratio 3 workers / 1.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.models import ProcessInstance
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from benchmarks import SECRET_KEY
from benchmarks.run import postgres_url

TIMERS = int(os.environ.get("BENCH_WORKER_TIMERS", "60"))
ROUNDS = int(os.environ.get("BENCH_WORKER_ROUNDS", "3"))
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")
DIAGRAM = ROOT / "tests" / "engine" / "fixtures" / "wait_with_timer.bpmn"


class Workers:
    """``count`` worker processes (no beat: only the jobs this bench sends do any work)."""

    def __init__(self, settings: Settings, count: int, logs: Path) -> None:
        env = {**os.environ, "PTSP_DATABASE_URL": settings.database_url, "PTSP_BROKER_URL": BROKER,
               "PTSP_VAR_DIR": str(settings.var_dir),
               "PTSP_SECRET_KEY": SECRET_KEY}
        self.procs = []
        for index in range(count):
            with (logs / f"worker{count}-{index}.log").open("ab") as log:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo",
                     "--loglevel=WARNING", f"--hostname=bench{index}-{time.monotonic_ns()}@%h"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        self.count = count

    def wait_ready(self, celery: object) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in self.procs):
                raise RuntimeError("a worker exited at start; see its log")
            if len(celery.control.ping(timeout=0.5) or []) >= self.count:  # type: ignore[attr-defined]
                return
        raise RuntimeError(f"{self.count} workers did not answer a ping")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _completed(c: Container, ids: list[int]) -> int:
    with c.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.id.in_(ids), ProcessInstance.status == "completed")) or 0)


def block(c: Container, celery: object, settings: Settings, count: int, logs: Path) -> float:
    """Timers fired per second by ``count`` workers over one block."""
    workers = Workers(settings, count, logs)
    try:
        workers.wait_ready(celery)
        with c.db.unit_of_work() as session:
            definition = latest_definition(session, "wait_with_timer")
            assert definition is not None
            ids = [c.runtime.start(session, definition, {"wait_for": "PT1S"}, "bench").id for _ in range(TIMERS)]
        time.sleep(1.2)  # every timer is due
        started = time.perf_counter()
        for instance_id in ids:
            celery.send_task("workers.tasks.fire_timers", args=[instance_id])  # type: ignore[attr-defined]
        deadline = time.monotonic() + 600
        while _completed(c, ids) < len(ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} workers did not fire {len(ids)} timers in 10 minutes; logs in {logs}")
            time.sleep(0.02)
        return len(ids) / (time.perf_counter() - started)
    finally:
        workers.stop()


def run() -> str | None:
    pg = postgres_url()
    if pg is None:
        return None
    url, drop = pg
    import redis
    from celery import Celery

    redis.Redis.from_url(BROKER).flushdb()
    celery = Celery("ptsp-bench", broker=BROKER, set_as_current=False)
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-workers-"))
    try:
        upgrade(url)
        settings = Settings(database_url=url, broker_url=BROKER, var_dir=tmp / "var")
        c = Container(settings, publisher=RecordingPublisher())
        with c.db.unit_of_work() as session:
            deploy_diagram(session, DIAGRAM.read_bytes(), DIAGRAM.name, "bench", c.clock)
        print(f"\nworkers: {ROUNDS} rounds of {TIMERS} timers fired by 1 and by 3 workers (PostgreSQL + Redis)")
        ones, threes, ratios = [], [], []
        for round_ in range(ROUNDS):
            order = (1, 3) if round_ % 2 == 0 else (3, 1)
            rates = {n: block(c, celery, settings, n, tmp) for n in order}
            ones.append(rates[1])
            threes.append(rates[3])
            ratios.append(rates[3] / rates[1])
        c.db.dispose()
        print(f"[workers] 1 worker:  median {statistics.median(ones):6.1f} timers/s")
        print(f"[workers] 3 workers: median {statistics.median(threes):6.1f} timers/s")
        line = (f"1 -> 3 workers throughput = {statistics.median(ratios):.2f}x"
                f" (min {min(ratios):.2f}, max {max(ratios):.2f})")
        print(f"[workers] {line}")
        return line
    finally:
        celery.close()
        drop()


if __name__ == "__main__":
    run()
