"""An issued permit: what the printed document says, and whether it still holds."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.files.models import ApplicationFile


class Permit(Base):
    """One permit document; a bundle's file issues one per permit type."""

    __tablename__ = "permit"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))  # the permit type (a catalogue entry)
    permit_number: Mapped[str] = mapped_column(String(100), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    business_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Printed facts of the permit type (floor area, class, items ...), as {label: text} in Indonesian and English.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Random, never shown alone: the verification token is this id plus an HMAC over it and the number.
    verification_id: Mapped[str] = mapped_column(String(32), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The signed (PAdES) PDF, made once and kept under var/permits/ by this hash (app/evidence/pdfsign.py).
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    file: Mapped[ApplicationFile] = relationship()
