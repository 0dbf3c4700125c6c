"""A real Celery worker and beat (separate processes, not eager mode) fire due
timers: on the embedded broker with SQLite, and on Redis with PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.models import InstanceEvent, ProcessInstance
from app.ops.services import check_health
from app.publisher import CeleryPublisher, RecordingPublisher

pytestmark = pytest.mark.slow
WAIT = (ROOT / "tests" / "engine" / "fixtures" / "wait_with_timer.bpmn").read_bytes()


@pytest.fixture
def worker_settings(real_backend: tuple[str, str], tmp_path: Path) -> Settings:
    database_url, broker_url = real_backend
    return Settings(database_url=database_url, broker_url=broker_url, var_dir=tmp_path / "var",
                    timer_sweep_seconds=1.0, heartbeat_seconds=1.0, heartbeat_max_age_seconds=10.0)


@pytest.fixture
def running_worker(worker_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    env = {**os.environ,
           "PTSP_DATABASE_URL": worker_settings.database_url,
           "PTSP_BROKER_URL": worker_settings.broker_url,
           "PTSP_VAR_DIR": str(worker_settings.var_dir),
           "PTSP_TIMER_SWEEP_SECONDS": "1", "PTSP_HEARTBEAT_SECONDS": "1", "PTSP_DESK_ROLLUP_SECONDS": "1"}
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(  # a worker with its embedded beat scheduler
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--beat",
         "--loglevel=INFO", "--hostname=testworker@%h", "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield worker_settings
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if proc.returncode not in (0, -signal.SIGTERM):
            print((tmp_path / "worker.log").read_text())


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_worker_fires_scheduled_and_swept_timers(running_worker: Settings) -> None:
    settings = running_worker
    scheduled = Container(settings, publisher=CeleryPublisher(settings.broker_url))
    silent = Container(settings, publisher=RecordingPublisher())  # its wake-up is never sent
    try:
        with scheduled.db.unit_of_work() as session:
            deploy_diagram(session, WAIT, "wait_with_timer.bpmn", "test", scheduled.clock)

        # The worker and its beat are alive once the heartbeat shows up.
        wait_for(lambda: check_health(scheduled.db, settings.broker_url, scheduled.clock, 10)[0], 60,
                 "a healthy worker heartbeat")

        def start(c: Container, wait: str) -> tuple[int, datetime]:
            with c.db.unit_of_work() as session:
                definition = latest_definition(session, "wait_with_timer")
                assert definition is not None
                instance = c.runtime.start(session, definition, {"wait_for": wait}, "test")
                assert instance.next_timer_at is not None
                return instance.id, instance.next_timer_at

        by_message, due_a = start(scheduled, "PT3S")
        by_sweep, due_b = start(silent, "PT2S")

        def fired_at(instance_id: int) -> datetime | None:
            with scheduled.db.unit_of_work() as session:
                row = session.get(ProcessInstance, instance_id)
                assert row is not None
                if row.status != "completed":
                    return None
                return session.scalar(select(InstanceEvent.at).where(
                    InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "timer_fired"))

        at_a = wait_for(lambda: fired_at(by_message), 20, "the scheduled timer to fire")
        at_b = wait_for(lambda: fired_at(by_sweep), 20, "the sweep to fire the unscheduled timer")
        assert due_a <= at_a  # type: ignore[operator]
        assert due_b <= at_b  # type: ignore[operator]
        for instance_id in (by_message, by_sweep):
            with scheduled.db.unit_of_work() as session:
                row = session.get(ProcessInstance, instance_id)
                assert row is not None
                assert scheduled.runtime.data(row)["outcome"] == "expired"
                assert row.next_timer_at is None
    finally:
        scheduled.db.dispose()
        silent.db.dispose()
