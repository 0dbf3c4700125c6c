"""Scale out: two web processes and three workers, each worker with its own beat (the worst
case of a deployment: a beat on every host), against one PostgreSQL and one Redis.

Files are moved through the JSON API of both web processes; timers fall due (some with a
scheduled wake-up, some only found by the sweeps) and escalations fall due. Each timer fires
once and each notice is mailed once: the sweeps take a database lock (app/ops/sweep_lock.py),
timers fire under the instance's optimistic lock, deliveries are claimed.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.tokens import issue_token
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.models import InstanceEvent, ProcessInstance
from app.publisher import CeleryPublisher
from tests import samples
from tests.conftest import worker_broker_url
from tests.walking import LANE_OFFICERS, open_pbg, open_task
from tests.workers.test_sla_delivery import (
    Mailbox,
    Worker,
    assert_each_once,
    escalate_now,
    free_port,
    mailbox,  # noqa: F401 (the real SMTP server fixture)
    office,
    wait_for,
)

pytestmark = pytest.mark.slow

WAIT = (ROOT / "tests" / "engine" / "fixtures" / "wait_with_timer.bpmn").read_bytes()


class Web:
    """``gunicorn app.wsgi:application``: one web host."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
                 "app.wsgi:application"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def call(self, method: str, path: str, token: str, body: object | None = None) -> dict[str, object]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def up(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                return True
        except OSError as exc:
            return getattr(exc, "code", None) is not None  # answered (maybe "unhealthy"): it is serving

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def production_pair(committed_postgres: str, tmp_path: Path) -> Settings:
    broker_url = worker_broker_url()
    import redis

    redis.Redis.from_url(broker_url).flushdb()
    return Settings(database_url=committed_postgres, broker_url=broker_url, var_dir=tmp_path / "var")


@pytest.fixture
def hosts() -> Iterator[list[Worker | Web]]:
    started: list[Worker | Web] = []
    yield started
    for host in started:
        host.stop()


def timer_firings(c: Container, instance_id: int) -> int | None:
    """How many times the instance's timer fired, once it completed (None before)."""
    with c.db.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        if row.status != "completed":
            return None
        return session.scalar(select(func.count()).select_from(InstanceEvent).where(
            InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "timer_fired"))


def test_two_web_and_three_workers_fire_each_timer_and_mail_each_notice_once(
        production_pair: Settings, mailbox: tuple[Mailbox, int], hosts: list[Worker | Web],  # noqa: F811
        tmp_path: Path) -> None:
    box, port = mailbox
    c = office(production_pair)  # records its jobs: only the web processes and the sweeps send any
    scheduled = Container(production_pair, publisher=CeleryPublisher(production_pair.broker_url))
    try:
        with c.db.unit_of_work() as session:
            deploy_diagram(session, WAIT, "wait_with_timer.bpmn", "test", c.clock)
            tokens = {lane: issue_token(session, session.scalars(select(User).where(User.username == name)).one(),
                                        "scale-out test", c.clock) for lane, name in LANE_OFFICERS.items()}
        env = Worker(production_pair, port, tmp_path / "unused.log").env
        webs = [Web(env, tmp_path / f"web{i}.log") for i in range(2)]
        hosts.extend(webs)
        workers = [Worker(production_pair, port, tmp_path / f"worker{i}.log").start() for i in range(3)]
        hosts.extend(workers)
        for web in webs:
            wait_for(web.up, 90, "a web process to serve")

        # Three files brought to the field survey through the API, the two web hosts taking turns.
        numbers = [open_pbg(c) for _ in range(3)]
        turn = 0
        for step, data in (("register_application", samples.REGISTRATION), ("check_documents", samples.CHECK_COMPLETE)):
            for number in numbers:
                task = open_task(c, number)
                assert task.task_name == step
                done = webs[turn % 2].call("POST", f"/api/v1/tasks/{task.id}/complete", tokens[task.lane], {"data": data})
                assert done["status"] == "completed"
                turn += 1
        assert all(open_task(c, n).task_name == "field_survey" for n in numbers)
        for number, state in zip(numbers, ("warning", "critical", "breached"), strict=True):
            escalate_now(c, number, state)

        # Timers: half with a wake-up sent to the workers, half only the sweeps of the three beats find.
        instances = []
        for publisher_side in (scheduled, c, scheduled, c, scheduled, c):
            with publisher_side.db.unit_of_work() as session:
                definition = latest_definition(session, "wait_with_timer")
                assert definition is not None
                instances.append(publisher_side.runtime.start(session, definition, {"wait_for": "PT2S"}, "test").id)

        expected = ["kepala", "manajer", "teknis", "wakil"]  # the escalations' recipients
        wait_for(lambda: len(box.messages) >= len(expected), 120, "the escalation mails", workers[0])
        fired = {i: wait_for(functools.partial(timer_firings, c, i), 60, f"the timer of instance {i}") for i in instances}
        time.sleep(4)  # several more sweeps of each beat: nothing new, nothing repeated
        for worker in workers:
            worker.check()
        assert_each_once(c, box, expected)
        assert fired == {i: 1 for i in instances}
        assert {i: timer_firings(c, i) for i in instances} == fired
    finally:
        c.db.dispose()
        scheduled.db.dispose()
