"""Delivering notices: the state machine that neither loses nor repeats one.

A notice is a row first; the sweep that escalates a clock inserts the notice and
its email delivery in the same transaction as the state change (outbox), and
only after that commit asks Celery to run ``deliver_notice(delivery_id)``. The
in-app channel needs no delivery: the notice row is the inbox item.

States of a delivery::

    pending --claim--> sending --server accepted--> sent
       ^                  |  \\--error, attempts < max--> pending (next_attempt_at = now + backoff)
       |                  |   \\-error permanent or attempts = max--> failed
       +--lease expired---+   (worker died: another worker claims it again)

* **Claim** is one conditional ``UPDATE ... WHERE id = :id AND (status =
  'pending' AND next_attempt_at <= now OR status = 'sending' AND lease_until <=
  now)`` that sets ``status = 'sending'``, a fresh ``claim_token``, ``attempts + 1``
  and ``lease_until = now + lease``, committed *before* anything is sent. Two
  workers with the same job (a redelivered message, a re-enqueue by the sweep)
  cannot both win it: PostgreSQL re-checks the condition on the row after the
  first commit, SQLite serialises writers. A delivery already ``sent`` or
  ``failed`` matches nothing, so the task is idempotent.
* **Send** runs outside any transaction, holding no lock.
* **Record** is an ``UPDATE ... WHERE id = :id AND claim_token = :token AND
  status = 'sending'`` to ``sent`` (or back to ``pending`` with backoff, or to
  ``failed``), so only the claimant writes the outcome.

Why nothing is lost: a delivery leaves pending/sending only as ``sent`` (the
server accepted it) or ``failed`` (after ``notify_max_attempts``, listed by
:func:`app.notify.services.failed_deliveries` for administrators). While it is
pending or sending its ``watch_at`` is set, and the SLA sweep enqueues every
delivery whose ``watch_at`` has passed: a job lost with the broker down, a
worker killed with SIGKILL mid-send (its lease expires), a retry whose ETA
message vanished. Nothing depends on the broker redelivering.

Why nothing is repeated: only the claim holder sends, and a claim lasts
``notify_lease_seconds``, longer than the SMTP timeout, so a live sender is
never overtaken. Mail delivery is nevertheless **at least once**: the one window
left is between the SMTP server's "250 OK" and our commit of ``sent`` (a crash
exactly there). It is kept as narrow as we can make it: the session that records
the outcome is opened and holds its connection *before* the message is sent, and
an SMTP sender reports the acceptance (``on_accepted``) right after the server's
"250" to DATA, before QUIT, so only one UPDATE and its COMMIT remain in the
window -- not QUIT's round trip (up to the SMTP timeout), a new connection or a
pool wait. Should a crash land there, the retry sends a message with the *same*
Message-ID (derived from the delivery id), which receivers and mail clients
recognise as the same message. The in-app notice is never duplicated: it is the
notice row itself, unique per (file, step, level, recipient). The embedded file channel names the
.eml file by that id and writes it atomically, so it holds exactly one copy.
A worker stuck in a crash loop on one delivery stops after max attempts too,
since every claim counts as an attempt.
"""
from __future__ import annotations

import inspect
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.notify.email import OnAccepted, Sender, SendFailed, build_message, make_sender
from app.notify.models import Delivery, DeliveryStatus, Notice
from app.parts import CoreParts
from app.publisher import enqueue_after_commit

log = logging.getLogger(__name__)

DELIVER_JOB = "workers.tasks.deliver_notice"
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | skipped
    detail: str = ""


def backoff(settings_retry_seconds: float, attempts: int) -> timedelta:
    """Exponential: retry_seconds x 2^(attempts - 1), at most an hour."""
    return min(timedelta(seconds=settings_retry_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver(c: CoreParts, delivery_id: int, sender: Sender | None = None) -> Outcome:
    """Claim, send and record one delivery (the body of ``workers.tasks.deliver_notice``)."""
    settings = c.settings
    token = uuid.uuid4().hex
    lease = timedelta(seconds=settings.notify_lease_seconds)
    with c.db.unit_of_work() as session:
        now = c.clock.now()
        claimed = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, or_(
                and_(Delivery.status == DeliveryStatus.PENDING,
                     or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)),
                and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until <= now)))
            .values(status=DeliveryStatus.SENDING, claim_token=token, attempts=Delivery.attempts + 1,
                    lease_until=now + lease, watch_at=now + lease)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not claimed:
            return Outcome("skipped", "already sent, failed, not due, or being sent by another worker")
        delivery = session.get_one(Delivery, delivery_id)
        notice = session.get_one(Notice, delivery.notice_id)
        recipient_name = (session.get_one(User, notice.recipient_id).full_name if notice.recipient_id is not None
                          else str(notice.detail.get("applicant_name") or ""))  # a notice to the applicant
        if delivery.attempts > settings.notify_max_attempts:
            # Claimed again and again without an outcome: the sends keep killing the worker.
            _finish(delivery, DeliveryStatus.FAILED, f"gave up after {delivery.attempts - 1} attempts without an outcome")
            return Outcome("failed", delivery.last_error or "")
        message = build_message(settings, notice_id=notice.id, delivery_id=delivery.id, level=notice.level,
                                detail=notice.detail, created_at=notice.created_at,
                                recipient_name=recipient_name, address=delivery.address)
        attempts = delivery.attempts
    # Opened (with its connection) before the send: after the server's "250" only the UPDATE
    # and COMMIT of "sent" remain, with no connection or pool wait in the duplicate window.
    record = c.db.sessions()
    record.connection()
    recorded_sent = False

    def accepted() -> None:
        nonlocal recorded_sent
        recorded_sent = _record_outcome(record, delivery_id, token, "sent", None, c.clock.now(), None, settings)
        record.commit()

    try:
        try:
            _send(sender or make_sender(settings), message, accepted)
            error: SendFailed | None = None
        except SendFailed as exc:
            error = exc
        if recorded_sent:
            return Outcome("sent")
        record.rollback()
        now = c.clock.now()
        next_attempt: datetime | None = None
        if error is None:
            outcome = Outcome("sent")
        elif error.permanent or attempts >= settings.notify_max_attempts:
            outcome = Outcome("failed", str(error))
        else:
            outcome = Outcome("retry", str(error))
            next_attempt = now + backoff(settings.notify_retry_seconds, attempts)
        recorded = _record_outcome(record, delivery_id, token, outcome.status, error, now, next_attempt, settings)
        _log_outcome(record, recorded, delivery_id, outcome, attempts, next_attempt, error)
        record.commit()
    except BaseException:
        record.rollback()
        raise
    finally:
        record.close()
    return outcome


def _send(sender: Sender, message: EmailMessage, on_accepted: OnAccepted) -> None:
    """Send; a sender that can say when the server accepted (``on_accepted``) is asked to.
    For the others the outcome is recorded once ``send`` returns."""
    if "on_accepted" in inspect.signature(sender.send).parameters:
        sender.send(message, on_accepted=on_accepted)  # type: ignore[call-arg]
    else:
        sender.send(message)


def _record_outcome(session: Session, delivery_id: int, token: str, status: str, error: SendFailed | None,
                    now: datetime, next_attempt: datetime | None, settings: Settings) -> bool:
    """Write the claimant's outcome; False when its claim expired meanwhile."""
    return bool(session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
        .values(
            status={"sent": DeliveryStatus.SENT, "failed": DeliveryStatus.FAILED, "retry": DeliveryStatus.PENDING}[status],
            sent_at=now if error is None else None,
            last_error=str(error)[:2000] if error is not None else None,
            next_attempt_at=next_attempt,
            watch_at=next_attempt + timedelta(seconds=settings.notify_requeue_seconds) if next_attempt else None,
            claim_token=None, lease_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount)  # type: ignore[attr-defined]


def _log_outcome(session: Session, recorded: bool, delivery_id: int, outcome: Outcome, attempts: int,
                 next_attempt: datetime | None, error: SendFailed | None) -> None:
    if not recorded:
        log.warning("delivery %s: the claim expired before the outcome (%s) was recorded", delivery_id,
                    outcome.status)
    elif next_attempt is not None:
        enqueue_after_commit(session, DELIVER_JOB, delivery_id, eta=next_attempt)
        log.info("delivery %s failed (attempt %s), retrying at %s: %s", delivery_id, attempts, next_attempt, error)
    elif error is not None:
        log.error("delivery %s failed for good after %s attempt(s): %s", delivery_id, attempts, error)


def _finish(delivery: Delivery, status: DeliveryStatus, error: str) -> None:
    delivery.status = status
    delivery.last_error = error
    delivery.claim_token = None
    delivery.lease_until = None
    delivery.watch_at = None
