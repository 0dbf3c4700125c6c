"""Tables of the designer: diagram drafts (browser-saved forms are in app/forms/models.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ProcessDraft(Base):
    """A diagram saved from the modeler without deploying it; every save is a new row."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    # The deployed version the draft was started from (None for a new process or an upload).
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    saved_by: Mapped[str] = mapped_column(String(100))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
