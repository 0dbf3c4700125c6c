"""Rollup rows of the dashboard, kept by a beat task (:mod:`app.desk.rollup`), never by the steps.

One row per file and one per completed step, holding what the dashboard would otherwise compute
from raw history on every request: the local dates, the working-day durations (the SLA clock's own
arithmetic), whether the legal limit was kept, and the fees. Requests read these rows by indexed
date, so a page costs the same with ten thousand files or a million.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.complaints.models import Complaint
from app.db import Base, UTCDateTime
from app.engine.models import HumanTask
from app.files.models import ApplicationFile


class FileRollup(Base):
    __tablename__ = "desk_file_rollup"
    __table_args__ = (
        Index("ix_desk_file_rollup_received", "received_on", "process_id"),
        Index("ix_desk_file_rollup_finished", "finished_on", "process_id"),
    )

    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    process_id: Mapped[str] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    finished_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Only for files whose legal clock ran: working days it ran (pauses excluded), and whether the
    # file finished within its limit (the SLA clock's own verdict, app/sla/tracking.py).
    working_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    fee_assessed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fee_paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StepRollup(Base):
    __tablename__ = "desk_step_rollup"
    __table_args__ = (Index("ix_desk_step_rollup_completed", "completed_on", "process_id"),)

    # No foreign key: derived rows, written in bulk by the beat task (a step is never deleted anyway).
    task_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    process_id: Mapped[str] = mapped_column(String(200))
    task_name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(100))
    completed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    completed_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[float] = mapped_column(Float)
    overdue: Mapped[bool] = mapped_column(Boolean)


class DayRollup(Base):
    """Per local day and permit type: files received, finished, finished with a clock, on time, and fees."""

    __tablename__ = "desk_day_rollup"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    with_clock: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    fee_assessed: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_paid: Mapped[int] = mapped_column(BigInteger, default=0)


class MonthlyReport(Base):
    """One monthly report asked for from the dashboard (or the CLI); its files live under var/reports/<id>/."""

    __tablename__ = "desk_monthly_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(20))  # queued|running|done|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RollupMark(Base):
    """How far the beat task has read: the last file id, the last step completion time."""

    __tablename__ = "desk_rollup_mark"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Indexes the rollup task and the live figures read by, on tables of other features (declared here so
# those features' models stay as they are): completed steps by completion time, open files by state,
# complaints by the time they were answered.
Index("ix_human_task_completed_at", HumanTask.__table__.c.completed_at)
Index("ix_application_file_open_sla", ApplicationFile.__table__.c.sla_stopped_at,
      ApplicationFile.__table__.c.sla_state, ApplicationFile.__table__.c.process_id)
Index("ix_complaint_answered_at", Complaint.__table__.c.answered_at)
