"""Escalation notices through a real Celery worker and beat (separate processes) to a
real SMTP server (aiosmtpd, in this process): each expected mail arrives exactly once,
on the embedded broker with SQLite and on Redis with PostgreSQL; also when the
worker is killed with SIGKILL in the middle of a delivery, and when Redis is down
for a while."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.engine.models import HumanTask
from app.files.services import get_file
from app.notify.email import message_id
from app.notify.models import Delivery, Notice
from app.ops.services import check_health
from app.publisher import RecordingPublisher
from app.sla.hours import add_working_time
from app.sla.sweep import sla_sweep
from tests import samples
from tests.sla.office import make_office
from tests.walking import do, open_pbg, open_task

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str, worker: Worker | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None:
            worker.check()
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- a real SMTP server --------------------------------------------------------------------


class Mailbox:
    """An SMTP server's handler that keeps what it accepted; it can hold the next DATA
    until released (and then refuse it, as a server whose client vanished would)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.hold_next = False
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 transaction aborted, try again"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    box.release.set()
    controller.stop()


# -- a real worker ---------------------------------------------------------------------------


class Worker:
    """``celery worker --beat`` in its own process group (the embedded beat is a child)."""

    def __init__(self, settings: Settings, smtp_port: int, log_path: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "PTSP_DATABASE_URL": settings.database_url, "PTSP_BROKER_URL": settings.broker_url,
            "PTSP_VAR_DIR": str(settings.var_dir), "PTSP_TIMER_SWEEP_SECONDS": "1", "PTSP_HEARTBEAT_SECONDS": "1",
            "PTSP_SLA_SWEEP_SECONDS": "1", "PTSP_SMTP_HOST": "127.0.0.1", "PTSP_SMTP_PORT": str(smtp_port),
            "PTSP_SMTP_TIMEOUT_SECONDS": "5", "PTSP_NOTIFY_LEASE_SECONDS": "6", "PTSP_NOTIFY_REQUEUE_SECONDS": "2",
            "PTSP_NOTIFY_RETRY_SECONDS": "1", **env,
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--beat",
             "--loglevel=INFO", f"--hostname=sla{time.monotonic_ns()}@%h",
             "-s", str(self.log_path.with_suffix(".schedule"))],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def check(self) -> None:
        """Fail at once (with its log) when the worker died on its own."""
        if self.proc is not None and self.proc.poll() is not None:
            log = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{log}")

    def kill(self) -> None:
        """SIGKILL the worker and its beat: no shutdown, no acknowledgement."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        else:
            with contextlib.suppress(ProcessLookupError):  # a beat child left behind
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def backend(real_backend: tuple[str, str], tmp_path: Path) -> Settings:
    database_url, broker_url = real_backend
    return Settings(database_url=database_url, broker_url=broker_url, var_dir=tmp_path / "var")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
    if any(w.proc is not None and w.proc.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL) for w in started):
        print((tmp_path / "worker.log").read_text(errors="replace"))


# -- the office's data -------------------------------------------------------------------------


def office(settings: Settings) -> Container:
    """The office with files waiting at the field survey (its clock running); the
    container's publisher records (the worker's sweep does the real sending)."""
    c = Container(settings, publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "test", c.clock, c.forms.names())
    make_office(c)
    return c


def file_at_survey(c: Container) -> str:
    number = open_pbg(c)
    do(c, number, "register_application", samples.REGISTRATION)
    do(c, number, "check_documents", samples.CHECK_COMPLETE)
    assert open_task(c, number).task_name == "field_survey"
    return number


def escalate_now(c: Container, number: str, state: str) -> None:
    """Move the file's due time so that it is in ``state`` now, due for the sweep;
    its steps' own clocks are left out (their notices are tested elsewhere)."""
    with c.db.unit_of_work() as session:
        file = get_file(session, number)
        now, calendar, hours = c.clock.now(), c.office_calendar.current(session), c.office_calendar.hours
        day = hours.day_length
        file.sla_due_at = {"warning": add_working_time(calendar, hours, now, 2 * day),
                           "critical": add_working_time(calendar, hours, now, day / 2),
                           "breached": now - timedelta(minutes=1)}[state]
        file.sla_next_check_at = now
        session.execute(update(HumanTask).where(HumanTask.instance_id == file.instance_id)
                        .values(sla_next_check_at=None))


def deliveries(c: Container) -> list[Delivery]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def assert_each_once(c: Container, box: Mailbox, expected: list[str]) -> None:
    """The expected mails arrived, each once, with the deliveries' own Message-IDs."""
    assert box.recipients() == sorted(f"{u.title()} <{u}@dpmptsp.example>" for u in expected)
    rows = deliveries(c)
    assert all(d.status == "sent" for d in rows), [(d.id, d.status, d.last_error) for d in rows]
    assert sorted(str(m["Message-ID"]) for m in box.messages) == sorted(
        message_id(d.notice_id, d.id, c.settings.smtp_from) for d in rows)


# -- tests ---------------------------------------------------------------------------------------


def test_each_escalation_is_mailed_once(backend: Settings, mailbox: tuple[Mailbox, int], workers: list[Worker],
                                        tmp_path: Path) -> None:
    box, port = mailbox
    c = office(backend)
    try:
        for state in ("warning", "critical", "breached"):
            escalate_now(c, file_at_survey(c), state)
        worker = Worker(backend, port, tmp_path / "worker.log").start()
        workers.append(worker)
        expected = ["kepala", "manajer", "teknis", "wakil"]  # officers, managers, head (two)
        wait_for(lambda: len(box.messages) >= len(expected), 60, "the escalation mails", worker)
        time.sleep(3)  # three more sweeps: nothing new, nothing repeated
        assert_each_once(c, box, expected)
        with c.db.unit_of_work() as session:
            assert session.scalar(select(Notice.id).where(Notice.level == "warning")) is not None
    finally:
        c.db.dispose()


def test_a_worker_killed_mid_delivery_loses_and_repeats_nothing(
        backend: Settings, mailbox: tuple[Mailbox, int], workers: list[Worker], tmp_path: Path) -> None:
    box, port = mailbox
    c = office(backend)
    try:
        escalate_now(c, file_at_survey(c), "breached")
        box.hold_next = True
        first = Worker(backend, port, tmp_path / "worker.log").start()
        workers.append(first)
        assert box.holding.wait(60), "the worker never reached the SMTP server"
        first.kill()  # in the middle of sending: claimed, not recorded
        box.release.set()
        [stuck] = [d for d in deliveries(c) if d.status == "sending"]
        assert stuck.attempts == 1

        second = Worker(backend, port, tmp_path / "worker.log").start()
        workers.append(second)
        wait_for(lambda: len(box.messages) >= 2, 60, "both mails after the restart", second)
        time.sleep(3)
        assert_each_once(c, box, ["kepala", "wakil"])
        taken_over = next(d for d in deliveries(c) if d.id == stuck.id)
        assert taken_over.attempts == 2  # the same delivery, claimed again after its lease
    finally:
        c.db.dispose()


class PrivateRedis:
    """A redis-server of this test alone, on a free port (the shared one is never touched)."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_for(lambda: _pings(redis.Redis.from_url(self.url)), 10, "the private redis-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def test_notices_go_out_once_after_redis_was_down(committed_postgres: str, mailbox: tuple[Mailbox, int],
                                                  workers: list[Worker], tmp_path: Path) -> None:
    from app import create_app

    box, port = mailbox
    postgres_url = committed_postgres
    broker = PrivateRedis(tmp_path)
    broker.start()
    # As the worker's: a pending delivery is enqueued again 2 s after its job should have run.
    settings = Settings(database_url=postgres_url, broker_url=broker.url, var_dir=tmp_path / "var",
                        heartbeat_max_age_seconds=10, notify_requeue_seconds=2)
    setup = office(settings)
    live = Container(settings)  # publishes to the (private) Redis, like a web process
    try:
        worker = Worker(settings, port, tmp_path / "worker.log").start()
        workers.append(worker)
        wait_for(lambda: check_health(live.db, settings.broker_url, live.clock, 10)[0], 60, "a healthy worker", worker)
        waiting = file_at_survey(setup)
        incomplete = open_pbg(setup)
        do(setup, incomplete, "register_application", samples.REGISTRATION)

        broker.stop()
        app = create_app(dataclasses.replace(settings))
        try:
            started = time.monotonic()
            response = app.test_client().get("/healthz")
            assert response.status_code == 503 and time.monotonic() - started < 5
            assert response.get_json()["broker"]["ok"] is False
        finally:
            app.extensions["ptsp"].db.dispose()
        # Completing a step still commits; its timer's wake-up cannot be sent (the sweep has it).
        started = time.monotonic()
        do(live, incomplete, "check_documents", samples.CHECK_INCOMPLETE)
        assert time.monotonic() - started < 5
        assert open_task(live, incomplete).task_name == "receive_resubmission"
        # The file escalates while Redis is down; the notices are rows, their jobs are lost.
        escalate_now(live, waiting, "breached")
        assert sla_sweep(live).notices == 2
        assert {d.status for d in deliveries(live)} == {"pending"}
        time.sleep(2)

        broker.start()  # same port: the worker and beat reconnect
        wait_for(lambda: len(box.messages) >= 2, 90, "the mails after Redis came back", worker)
        time.sleep(3)
        assert_each_once(live, box, ["kepala", "wakil"])
    finally:
        for worker in workers:
            worker.stop()
        broker.stop()
        setup.db.dispose()
        live.db.dispose()
