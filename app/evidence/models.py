"""Tables of the evidence: the results of integrity checks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class IntegrityCheck(Base):
    """One run of ``ptsp audit verify`` (or its daily task): clean, or the first broken link."""

    __tablename__ = "integrity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    links_checked: Mapped[int] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
