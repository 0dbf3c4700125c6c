"""Tables of the SLA domain: the administrators' calendar changes and who manages what."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

DAY_KINDS = ("add", "remove")


class CalendarDay(Base):
    """A date an administrator declared a holiday (``add``) or a working day (``remove``),
    on top of the national holidays and cuti bersama of the ``holidays`` package."""

    __tablename__ = "calendar_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # add|remove
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarRevision(Base):
    """One row: a new random token on every calendar change, so each process
    rebuilds its cached calendar when (and only when) the days changed."""

    __tablename__ = "calendar_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ManagerResponsibility(Base):
    """A manager responsible for a permit type (process id) and/or a lane; ``None`` is "any"."""

    __tablename__ = "manager_responsibility"
    __table_args__ = (Index("ix_manager_responsibility_scope", "process_id", "lane"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lane: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
