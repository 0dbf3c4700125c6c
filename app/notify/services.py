"""The notice outbox and the inbox: creating notices with their deliveries, reading
and acknowledging them, reassigning an escalated step, and the failed deliveries
administrators must look at."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.clock import Clock
from app.engine.errors import ConcurrentUpdate, NotFound
from app.engine.history import append_event
from app.engine.models import HumanTask, TaskStatus, open_task
from app.errors import Conflict, Forbidden, Invalid
from app.notify.delivery import DELIVER_JOB
from app.notify.models import Delivery, DeliveryStatus, Notice
from app.publisher import enqueue_after_commit

REASSIGNERS = ("manager", "admin")


class NotAllowed(Forbidden):
    """The user may not do this; nothing was changed."""


class InvalidReassignment(Invalid):
    """The step cannot go to that officer; nothing was changed."""


class NotRetryable(Conflict):
    """Only a delivery that failed for good can be sent again."""


# -- outbox ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDraft:
    """A notice to create: one escalation of one clock, for one person."""

    file_id: int
    task_id: int | None
    level: str
    recipient: User
    detail: dict[str, Any]


def create_notice_rows(session: Session, drafts: Sequence[NoticeDraft], *, now: datetime, email: bool,
                       requeue_after: timedelta) -> list[int]:
    """Insert the drafts that do not exist yet, with an email delivery for recipients
    with an address; the deliveries are enqueued after commit. Returns the new notice ids.

    The unique constraint (file, step, level, recipient) makes a repeat a no-op, even
    from two sweeps at once. A few statements for the whole batch, whatever its size.
    """
    if not drafts:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key_columns = ["file_id", "task_key", "level", "recipient_id"]
    by_key = {(d.file_id, d.task_id or 0, d.level, d.recipient.id): d for d in drafts}
    created: list[int] = []
    deliveries: list[dict[str, Any]] = []
    rows = [{"file_id": f, "human_task_id": t or None, "task_key": t, "level": lvl, "recipient_id": r,
             "created_at": now, "detail": draft.detail} for (f, t, lvl, r), draft in by_key.items()]
    # One statement, executed for many parameter sets (SQLAlchemy's "insertmanyvalues").
    statement = (insert(Notice).on_conflict_do_nothing(index_elements=key_columns)
                 .returning(Notice.id, *(getattr(Notice, c) for c in key_columns)))
    for notice_id, *key in session.execute(statement, rows):
        created.append(notice_id)
        recipient = by_key[tuple(key)].recipient
        if email and recipient.email:
            deliveries.append({
                "notice_id": notice_id, "channel": "email", "address": recipient.email, "status": DeliveryStatus.PENDING,
                "attempts": 0, "created_at": now, "next_attempt_at": now, "watch_at": now + requeue_after})
    if deliveries:
        for delivery_id in session.scalars(sqlalchemy.insert(Delivery).returning(Delivery.id), deliveries):
            enqueue_after_commit(session, DELIVER_JOB, delivery_id)
    return created


def create_notices(session: Session, *, file_id: int, task_id: int | None, level: str, recipients: Sequence[User],
                   detail: dict[str, Any], now: datetime, email: bool, requeue_after: timedelta) -> list[Notice]:
    """One escalation told to ``recipients`` (see :func:`create_notice_rows`); the notices created now."""
    ids = create_notice_rows(session, [NoticeDraft(file_id, task_id, level, user, detail) for user in recipients],
                             now=now, email=email, requeue_after=requeue_after)
    if not ids:
        return []
    return list(session.scalars(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id)))


def requeue_due_deliveries(session: Session, now: datetime, requeue_after: timedelta, limit: int = 500) -> int:
    """Enqueue again every unfinished delivery whose ``watch_at`` passed (a lost job,
    a worker killed mid-send); the claim makes a duplicate job harmless."""
    rows = list(session.scalars(
        select(Delivery).where(Delivery.watch_at <= now).order_by(Delivery.watch_at).limit(limit)
        .with_for_update(skip_locked=True)))
    count = 0
    for delivery in rows:
        if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            delivery.watch_at = None
            continue
        eta = delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else delivery.lease_until
        enqueue_after_commit(session, DELIVER_JOB, delivery.id, eta=eta if eta is not None and eta > now else None)
        delivery.watch_at = max(now, eta or now) + requeue_after
        count += 1
    session.flush()
    return count


# -- inbox -------------------------------------------------------------------------------


def inbox_for(session: Session, user: User, *, include_acknowledged: bool = False, limit: int = 100) -> list[Notice]:
    """The user's notices, newest first (unacknowledged only unless asked)."""
    query = select(Notice).where(Notice.recipient_id == user.id)
    if not include_acknowledged:
        query = query.where(Notice.acknowledged_at.is_(None))
    return list(session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.recipient_id == user.id, Notice.read_at.is_(None))) or 0


def open_tasks_by_id(session: Session, task_ids: Sequence[int]) -> dict[int, HumanTask]:
    """The still-open steps among ``task_ids`` (those a notice may offer to reassign), by id."""
    if not task_ids:
        return {}
    return {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids),
                                                                    open_task()))}


def _own_notice(session: Session, notice_id: int, user: User) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    if notice.recipient_id != user.id:
        raise NotAllowed(f"notice {notice_id} is addressed to someone else")
    return notice


def mark_read(session: Session, notice_id: int, user: User, clock: Clock) -> Notice:
    notice = _own_notice(session, notice_id, user)
    if notice.read_at is None:
        notice.read_at = clock.now()
    session.flush()
    return notice


def acknowledge(session: Session, notice_id: int, user: User, clock: Clock) -> Notice:
    """The recipient confirms they act on it (also marks it read). Idempotent."""
    notice = _own_notice(session, notice_id, user)
    now = clock.now()
    if notice.read_at is None:
        notice.read_at = now
    if notice.acknowledged_at is None:
        notice.acknowledged_at = now
        notice.acknowledged_by = user.username
    session.flush()
    return notice


def reassign_task(session: Session, task_id: int, to_user: User, by_user: User, clock: Clock) -> HumanTask:
    """Give an open step to ``to_user``, an active officer of its lane (by a manager
    or admin); recorded in the instance history as "reassigned"."""
    if by_user.role not in REASSIGNERS:
        raise NotAllowed(f"only managers and admins can reassign steps; {by_user.username!r} is {by_user.role!r}")
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != TaskStatus.OPEN:
        raise InvalidReassignment(f"task {task.title!r} is {task.status}; only open steps can be reassigned")
    if not to_user.active or task.lane not in to_user.lane_names:
        raise InvalidReassignment(
            f"{to_user.username!r} is not an active officer of lane {task.lane!r}; choose a member of that lane")
    previous, title = task.claimed_by, task.title
    now = clock.now()
    task.claimed_by = to_user.username
    task.claimed_at = now
    # Moving the history head updates the instance row: a step completed (or reassigned) meanwhile makes
    # this fail, not fork; the loser of that race is told so (409), and nothing is saved.
    append_event(session, task.instance, "reassigned", by_user.username, now, task.task_name,
                 {"task_id": task.id, "from": previous, "to": to_user.username})
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        if isinstance(exc, IntegrityError) and "instance_event" not in str(exc):
            raise
        raise ConcurrentUpdate(f"task {title!r} was changed by someone else at the same moment; "
                               "nothing was reassigned, please reload") from exc
    return task


# -- administrators ----------------------------------------------------------------------


def failed_deliveries(session: Session, limit: int = 200) -> list[Delivery]:
    """Deliveries that failed for good, newest first, for administrators."""
    return list(session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
                                .order_by(Delivery.id.desc()).limit(limit)))


def retry_delivery(session: Session, delivery_id: int, clock: Clock, requeue_after: timedelta) -> Delivery:
    """Send a failed delivery again (e.g. after fixing an address or the SMTP settings)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status != DeliveryStatus.FAILED:
        raise NotRetryable(f"delivery {delivery_id} is {delivery.status}, not failed")
    now = clock.now()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
    delivery.watch_at = now + requeue_after
    session.flush()
    enqueue_after_commit(session, DELIVER_JOB, delivery.id)
    return delivery
