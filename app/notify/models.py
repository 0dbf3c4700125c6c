"""The notice outbox: a notice is the in-app inbox item, its deliveries the other channels."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import Base, StatusColumn, UTCDateTime


class DeliveryStatus(StrEnum):
    """A delivery's life: waiting for its turn, claimed by a worker (with a lease), sent, or failed for good."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


DELIVERY_STATUSES = tuple(DeliveryStatus)


class Notice(Base):
    """One escalation told to one person; exists at most once per (file, step, level, recipient)."""

    __tablename__ = "notice"
    __table_args__ = (
        # task_key is the step's human_task id, or 0 for the file's own clock: a
        # nullable column would not make the constraint hold (NULLs are distinct).
        UniqueConstraint("file_id", "task_key", "level", "recipient_id", name="uq_notice_once"),
        Index("ix_notice_inbox", "recipient_id", "acknowledged_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a notice about the whole office (an audit chain or anchor that no longer holds).
    file_id: Mapped[int | None] = mapped_column(ForeignKey("application_file.id"), index=True, nullable=True)
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), nullable=True)
    task_key: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))  # warning|critical|breached
    # None for a notice to the applicant (mailed to the address they gave; no inbox).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the notice says, as it was when created: file number, permit type,
    # step, officer, due time, working days left.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    # Notices to applicants: "applicant:<file id>:<event>[:<step id>]" makes each go out once.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)

    recipient: Mapped[User | None] = relationship()


class Delivery(Base):
    """Sending one notice over one channel; see app/notify/delivery.py for its states."""

    __tablename__ = "notice_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # email
    address: Mapped[str] = mapped_column(String(300))
    status: Mapped[DeliveryStatus] = mapped_column(StatusColumn(DeliveryStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Earliest start of the next attempt (backoff after a failure).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The claim of the worker sending it, valid until lease_until.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the sweep must enqueue it again if it is still not sent (lost job, dead worker).
    watch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    notice: Mapped[Notice] = relationship()
