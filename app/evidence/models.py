"""Tables of the evidence: chain heads and the results of integrity checks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ChainHead(Base):
    """The last link of a global chain (the audit log's): locked FOR UPDATE by each writer,
    so writers line up instead of forking the chain, and a deleted tail is noticed."""

    __tablename__ = "chain_head"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))


class IntegrityCheck(Base):
    """One run of ``ptsp audit verify`` (or its daily task): clean, or the first broken link."""

    __tablename__ = "integrity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    links_checked: Mapped[int] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
