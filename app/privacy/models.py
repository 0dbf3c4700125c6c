"""The personal data access log: one row per time an officer saw an applicant's data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class PersonalDataAccess(Base):
    """``actor`` saw ``what`` (file_page|attachment|nik|search) of file ``file_id`` from ``ip``."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_file", "file_id", "at"),
        Index("ix_personal_data_access_actor", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id"))
    what: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
