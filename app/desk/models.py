"""Rollup rows of the dashboard, kept by a beat task (:mod:`app.desk.rollup`), never by the steps.

The dashboard's figures come from running figures whose size does not grow with files: per day and
permit type the counters (:class:`DayRollup`), per day, permit type and step a duration histogram
(:class:`DurationBucket`), per day, lane and officer the steps completed (:class:`WorkDay`). One row
per file and one per completed step (:class:`FileRollup`, :class:`StepRollup`: local dates,
working-day durations by the SLA clock's own arithmetic, the legal limit kept or not, fees) stay for
drill-down lists and for recomputing the figures; no request scans them.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.complaints.models import Complaint
from app.db import Base, StatusColumn, UTCDateTime
from app.engine.models import HumanTask
from app.files.models import ApplicationFile


class ReportStatus(StrEnum):
    """A monthly report being built by a worker."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


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


class DurationBucket(Base):
    """Per local day, permit type and step (``kind`` "step", ``name`` the BPMN task id) or whole file
    (``kind`` "file", ``name`` ""): how many durations fell into each working-day bucket, and how
    many of them were late (step past its due time, file past its legal limit).

    Buckets are fixed (:func:`app.desk.rollup.bucket_of`): bucket ``b`` holds durations in
    ((b-1)/4, b/4] working days, bucket 0 exactly zero, up to 30 working days (bucket 120);
    bucket 121 holds everything longer. The table grows with days x steps x buckets in use, never
    with files: a period's median and p90 come from its summed bucket counts.
    """

    __tablename__ = "desk_duration_bucket"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # step|file
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)


class WorkDay(Base):
    """Per local day, permit type, lane and officer ("" for none): steps completed."""

    __tablename__ = "desk_work_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    lane: Mapped[str] = mapped_column(String(100), primary_key=True)
    officer: Mapped[str] = mapped_column(String(100), primary_key=True)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class MonthlyReport(Base):
    """One monthly report asked for from the dashboard (or the CLI); its files live under var/reports/<id>/."""

    __tablename__ = "desk_monthly_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[ReportStatus] = mapped_column(StatusColumn(ReportStatus))
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RollupMark(Base):
    """How far the beat task has read: the last file id (steps need no mark: each completed step
    carries its own ``rolled_up`` flag, see :mod:`app.desk.rollup`)."""

    __tablename__ = "desk_rollup_mark"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Indexes the rollup task and the live figures read by, on tables of other features (declared here so
# those features' models stay as they are): completed steps by completion time, open files by state,
# complaints by the time they were answered.
Index("ix_human_task_completed_at", HumanTask.__table__.c.completed_at)
# The completed steps the beat task has not yet rolled up: few, whatever the size of the history.
Index("ix_human_task_to_roll_up", HumanTask.__table__.c.id,
      postgresql_where=text("status = 'completed' AND NOT rolled_up"),
      sqlite_where=text("status = 'completed' AND NOT rolled_up"))
# Open files (their clock not stopped) by state: a finished file adds no entry.
Index("ix_application_file_open_sla", ApplicationFile.__table__.c.sla_state, ApplicationFile.__table__.c.process_id,
      postgresql_where=text("sla_stopped_at IS NULL"), sqlite_where=text("sla_stopped_at IS NULL"))
Index("ix_complaint_answered_at", Complaint.__table__.c.answered_at)
