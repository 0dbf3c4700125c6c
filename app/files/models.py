"""The application file (berkas): what the applicant and the office call a case."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.engine.models import ProcessInstance

_CHECKED = text("sla_next_check_at IS NOT NULL")


class ApplicationFile(Base):
    __tablename__ = "application_file"
    # The files list (newest first), per permit type, and by SLA state (app/files/search.py).
    __table_args__ = (Index("ix_application_file_created_at", "created_at"),
                      Index("ix_application_file_process_created", "process_id", "created_at"),
                      Index("ix_application_file_sla_state_created", "sla_state", "created_at"),
                      # The SLA sweep's: only files whose clock still has a next check (running files).
                      Index("ix_application_file_sla_next_check_at", "sla_next_check_at",
                            sqlite_where=_CHECKED, postgresql_where=_CHECKED))

    id: Mapped[int] = mapped_column(primary_key=True)
    file_number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    process_id: Mapped[str] = mapped_column(String(200))
    applicant_name: Mapped[str] = mapped_column(String(200))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    # Intake at the front desk (None for files opened from the CLI without intake).
    applicant_nik: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Public tracking: the PIN printed on the receipt, stored hashed.
    tracking_pin_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    promised_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The legal clock (app/sla/tracking.py): starts when the documents are confirmed complete,
    # pauses while the file waits on the applicant; sla_next_check_at is when its state next changes.
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_limit_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Past its legal limit: the deemed-granted ("fiktif positif") risk; set once, never cleared.
    past_legal_limit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    past_legal_limit_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    instance: Mapped[ProcessInstance | None] = relationship()


class Attachment(Base):
    """A document handed in with a file; the bytes live under var/, named by their sha256."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    # Retention (`ptsp retention`): the bytes were deleted; the row and the file's history stay.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Terms are compared bytewise so that a prefix is a range on the index ("C" on PostgreSQL).
SEARCH_TERM = String(60).with_variant(String(60, collation="C"), "postgresql")


class FileSearchTerm(Base):
    """One word of a file's applicant name, folded to lower-case ASCII, for finding files by name."""

    __tablename__ = "file_search_term"
    __table_args__ = (Index("ix_file_search_term_term_created", "term", "created_at", "file_id"),)

    term: Mapped[str] = mapped_column(SEARCH_TERM, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FileNumberCounter(Base):
    """The last file number given per permit-type prefix and year (PBG-2026-000001, PBG-2026-000002 ...)."""

    __tablename__ = "file_number_counter"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
