"""A complaint about a file and the office's answer."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, StatusColumn, UTCDateTime
from app.files.models import ApplicationFile
from app.i18n import N_

CATEGORIES = (N_("waktu"), N_("biaya"), N_("persyaratan"), N_("perilaku_petugas"), N_("lainnya"))
CATEGORY_LABELS = {N_("waktu"): N_("Waktu penyelesaian"), N_("biaya"): N_("Biaya / retribusi"), N_("persyaratan"): "Persyaratan",
                   N_("perilaku_petugas"): N_("Perilaku petugas"), N_("lainnya"): N_("Lainnya")}  # English in complaints/views.py


class ComplaintStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_status_submitted", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    category: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(150), nullable=True)
    contact: Mapped[str | None] = mapped_column(String(254), nullable=True)  # phone or email, optional
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ComplaintStatus] = mapped_column(StatusColumn(ComplaintStatus))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    file: Mapped[ApplicationFile] = relationship()
