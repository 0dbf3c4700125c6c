"""The delivery state machine (claim, send, record; retries, leases, lost jobs) and the
two mail senders, against a real SMTP server in this process."""
from __future__ import annotations

import dataclasses
import email
import smtplib
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.files.services import get_file
from app.notify.delivery import DELIVER_JOB, deliver
from app.notify.email import FileSender, SendFailed, SmtpSender, build_message, message_id
from app.notify.models import Delivery, Notice
from app.notify.services import create_notices, failed_deliveries, retry_delivery
from app.publisher import RecordingPublisher
from app.sla.sweep import sla_sweep
from tests.sla.office import CapturingSender, make_office
from tests.walking import open_pbg, user

DETAIL = {"scope": "file", "file_number": "PBG-2026-000001", "process_id": "building_permit",
          "permit_type": "Persetujuan Bangunan Gedung (PBG)", "step": "Pemeriksaan lapangan (BAP)",
          "lane": "technical_team", "officer": "Tim Teknis / Technical team", "due_at": "2026-01-20T09:00:00+00:00",
          "working_days_left": 2.5, "timezone": "Asia/Jakarta"}


@pytest.fixture
def c(settings: Settings, clock: FixedClock, publisher: RecordingPublisher) -> Iterator[Container]:
    tuned = dataclasses.replace(settings, notify_max_attempts=3, notify_retry_seconds=30, notify_lease_seconds=120,
                                notify_requeue_seconds=60)
    container = Container(tuned, clock=clock, publisher=publisher)
    with container.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "test", clock, container.forms.names())
    make_office(container)
    yield container
    container.db.dispose()


def notify(c: Container, *usernames: str) -> list[int]:
    """Create a warning notice for ``usernames`` on a new file; returns the delivery ids."""
    number = open_pbg(c)
    with c.db.unit_of_work() as session:
        file = get_file(session, number)
        created = create_notices(session, file_id=file.id, task_id=None, level="warning",
                                 recipients=[user(session, u) for u in usernames], detail=DETAIL,
                                 now=c.clock.now(), email=True, requeue_after=timedelta(seconds=60))
        return list(session.scalars(select(Delivery.id).where(Delivery.notice_id.in_([n.id for n in created]))
                                    .order_by(Delivery.id)))


def status(c: Container, delivery_id: int) -> Delivery:
    with c.db.unit_of_work() as session:
        return session.get_one(Delivery, delivery_id)


def jobs(publisher: RecordingPublisher) -> list[tuple[Any, ...]]:
    found = [(j.args[0], j.eta) for j in publisher.jobs if j.name == DELIVER_JOB]
    publisher.jobs.clear()
    return found


class Dying:
    """A sender whose worker dies mid-send (BaseException: nothing in deliver() catches it)."""

    def send(self, message: EmailMessage) -> None:
        raise SystemExit("killed")


class Flaky:
    def __init__(self, failures: int, permanent: bool = False) -> None:
        self.failures, self.permanent, self.sent = failures, permanent, []  # type: ignore[var-annotated]

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise SendFailed("451 try again later", permanent=self.permanent)
        self.sent.append(message)


def test_notices_are_unique_and_each_gets_one_delivery(c: Container, publisher: RecordingPublisher) -> None:
    [delivery_id] = notify(c, "teknis")
    assert jobs(publisher)[-1:] == [(delivery_id, None)]
    with c.db.unit_of_work() as session:
        notice = session.scalars(select(Notice)).one()
        again = create_notices(session, file_id=notice.file_id, task_id=None, level="warning",
                               recipients=[user(session, "teknis")], detail=DETAIL, now=c.clock.now(), email=True,
                               requeue_after=timedelta(seconds=60))
        assert again == []
    assert jobs(publisher) == []


def test_a_delivery_is_sent_once_however_often_its_job_runs(c: Container, publisher: RecordingPublisher) -> None:
    [delivery_id] = notify(c, "teknis")
    sender = CapturingSender()
    assert deliver(c, delivery_id, sender=sender).status == "sent"
    assert deliver(c, delivery_id, sender=sender).status == "skipped"
    row = status(c, delivery_id)
    assert (row.status, row.attempts, row.watch_at, row.claim_token) == ("sent", 1, None, None)
    [message] = sender.messages
    assert message["Message-ID"] == message_id(row.notice_id, delivery_id, c.settings.smtp_from)


def test_a_worker_killed_mid_send_is_taken_over_after_its_lease(c: Container, clock: FixedClock,
                                                                publisher: RecordingPublisher) -> None:
    [delivery_id] = notify(c, "teknis")
    jobs(publisher)
    with pytest.raises(SystemExit):
        deliver(c, delivery_id, sender=Dying())
    assert status(c, delivery_id).status == "sending"
    sender = CapturingSender()
    # Its message comes again at once (acks_late): the lease still holds, nothing is sent twice.
    assert deliver(c, delivery_id, sender=sender).status == "skipped"
    assert sla_sweep(c).deliveries_requeued == 0
    clock.advance(seconds=c.settings.notify_lease_seconds)
    assert sla_sweep(c).deliveries_requeued == 1  # the sweep, not the broker, brings it back
    [(job_id, eta)] = jobs(publisher)
    assert (job_id, eta) == (delivery_id, None)
    assert deliver(c, delivery_id, sender=sender).status == "sent"
    assert (status(c, delivery_id).attempts, len(sender.messages)) == (2, 1)
    assert sla_sweep(c).deliveries_requeued == 0


def test_failures_back_off_exponentially_then_fail_for_good(c: Container, clock: FixedClock,
                                                            publisher: RecordingPublisher) -> None:
    [delivery_id] = notify(c, "teknis")
    jobs(publisher)
    flaky = Flaky(failures=10)
    start = clock.now()
    assert deliver(c, delivery_id, sender=flaky).status == "retry"
    assert jobs(publisher) == [(delivery_id, start + timedelta(seconds=30))]
    assert deliver(c, delivery_id, sender=flaky).status == "skipped"  # early: not due yet
    clock.advance(seconds=30)
    assert deliver(c, delivery_id, sender=flaky).status == "retry"
    assert jobs(publisher) == [(delivery_id, clock.now() + timedelta(seconds=60))]
    clock.advance(seconds=60)
    assert deliver(c, delivery_id, sender=flaky).status == "failed"  # third of notify_max_attempts=3
    row = status(c, delivery_id)
    assert (row.status, row.attempts, row.watch_at) == ("failed", 3, None)
    assert "451" in (row.last_error or "")
    with c.db.unit_of_work() as session:
        assert [d.id for d in failed_deliveries(session)] == [delivery_id]
        retry_delivery(session, delivery_id, c.clock, timedelta(seconds=60))
    flaky.failures = 0
    assert deliver(c, delivery_id, sender=flaky).status == "sent"
    assert len(flaky.sent) == 1


def test_a_permanent_failure_is_not_retried(c: Container) -> None:
    [delivery_id] = notify(c, "teknis")
    assert deliver(c, delivery_id, sender=Flaky(1, permanent=True)).status == "failed"
    assert status(c, delivery_id).attempts == 1


def test_a_lost_enqueue_is_caught_by_the_sweep(c: Container, clock: FixedClock, publisher: RecordingPublisher) -> None:
    [delivery_id] = notify(c, "teknis")
    publisher.jobs.clear()  # the broker never got it
    assert sla_sweep(c).deliveries_requeued == 0
    clock.advance(seconds=60)
    assert sla_sweep(c).deliveries_requeued == 1
    assert jobs(publisher) == [(delivery_id, None)]
    assert sla_sweep(c).deliveries_requeued == 0  # not again until another interval passed
    clock.advance(seconds=60)
    assert sla_sweep(c).deliveries_requeued == 1


def test_users_without_an_address_get_the_in_app_notice_only(c: Container) -> None:
    with c.db.unit_of_work() as session:
        user(session, "kasir").email = None
    assert notify(c, "kasir", "teknis") != []
    with c.db.unit_of_work() as session:
        assert session.scalar(select(Notice.id).where(Notice.recipient_id == user(session, "kasir").id)) is not None
        assert [d.address for d in session.scalars(select(Delivery))] == ["teknis@dpmptsp.example"]


# -- senders ------------------------------------------------------------------------------


def mail(settings: Settings) -> EmailMessage:
    from datetime import UTC, datetime

    return build_message(settings, notice_id=7, delivery_id=9, level="critical", detail=DETAIL,
                         created_at=datetime(2026, 1, 19, 1, 0, tzinfo=UTC), recipient_name="Budi Santoso",
                         address="budi@dpmptsp.example")


def test_mail_is_bilingual_indonesian_first(settings: Settings) -> None:
    message = mail(settings)
    assert message["Subject"] == "[PTSP] Kritis / Critical: PBG-2026-000001 - Pemeriksaan lapangan (BAP)"
    assert message["Message-ID"] == "<ptsp.notice-7.delivery-9@localhost>"
    body = message.get_content()
    assert body.index("Yth. Budi Santoso") < body.index("Dear Budi Santoso")
    assert "Batas waktu  : 20-01-2026 16:00 WIB" in body and "Deadline     : 20-01-2026 16:00 WIB" in body
    assert "sisa 2,5 hari kerja" in body and "2.5 working day(s) left" in body
    assert "Tim Teknis / Technical team" in body


def test_the_embedded_sender_writes_one_eml_per_delivery(settings: Settings, tmp_path: Path) -> None:
    sender = FileSender(tmp_path / "mail")
    sender.send(mail(settings))
    sender.send(mail(settings))  # a repeat overwrites the same file
    [path] = (tmp_path / "mail").iterdir()
    assert path.name == "ptsp.notice-7.delivery-9.eml"
    assert email.message_from_bytes(path.read_bytes())["To"] == "Budi Santoso <budi@dpmptsp.example>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_smtp_sender_talks_to_a_real_server(settings: Settings) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address.startswith("nobody@"):
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sender = SmtpSender(dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5))
        sender.send(mail(settings))
        assert len(received) == 1 and b"Message-ID: <ptsp.notice-7.delivery-9@localhost>" in received[0]
        refused = mail(settings)
        refused.replace_header("To", "nobody@dpmptsp.example")
        with pytest.raises(SendFailed) as info:
            sender.send(refused)
        assert info.value.permanent
    finally:
        controller.stop()
    started = time.monotonic()
    with pytest.raises(SendFailed) as info:
        SmtpSender(dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=2)).send(
            mail(settings))
    assert not info.value.permanent  # server down: try again later
    assert time.monotonic() - started < 3
    assert isinstance(info.value.__cause__, (OSError, smtplib.SMTPException))
