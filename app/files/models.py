"""The application file (berkas): what the applicant and the office call a case."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.engine.models import ProcessInstance


class ApplicationFile(Base):
    __tablename__ = "application_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    process_id: Mapped[str] = mapped_column(String(200))
    applicant_name: Mapped[str] = mapped_column(String(200))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    instance: Mapped[ProcessInstance | None] = relationship()
