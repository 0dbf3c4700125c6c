"""Survey answers, kept apart from the files they came from.

A response holds only the permit type, the day it was given, the nine scores and the
suggestion: nothing that names the applicant or the file. Which files have answered is
kept in :class:`SurveyTokenUse`, without a time, so the two cannot be joined by order or time.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.i18n import N_

# The nine elements (unsur) of PermenPAN-RB 14/2017, in the regulation's order.
ELEMENTS = ("requirements", "procedure", "time", "cost", "product", "competence", "behaviour",
            "complaints", "facilities")
# Their names as the regulation words them (Indonesian; the English is in the .po catalogue).
ELEMENT_LABELS = {
    "requirements": "Persyaratan",
    "procedure": N_("Sistem, mekanisme, dan prosedur"),
    "time": N_("Waktu penyelesaian"),
    "cost": N_("Biaya/tarif"),
    "product": N_("Produk spesifikasi jenis pelayanan"),
    "competence": N_("Kompetensi pelaksana"),
    "behaviour": N_("Perilaku pelaksana"),
    "complaints": N_("Penanganan pengaduan, saran dan masukan"),
    "facilities": N_("Sarana dan prasarana"),
}


class SurveyResponse(Base):
    __tablename__ = "skm_response"
    __table_args__ = (
        Index("ix_skm_response_answered_on_process", "answered_on", "process_id"),
        *(CheckConstraint(f"u_{name} BETWEEN 1 AND 4", name=f"u_{name}_score") for name in ELEMENTS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))  # the permit type
    answered_on: Mapped[date] = mapped_column(Date)
    u_requirements: Mapped[int] = mapped_column(SmallInteger)
    u_procedure: Mapped[int] = mapped_column(SmallInteger)
    u_time: Mapped[int] = mapped_column(SmallInteger)
    u_cost: Mapped[int] = mapped_column(SmallInteger)
    u_product: Mapped[int] = mapped_column(SmallInteger)
    u_competence: Mapped[int] = mapped_column(SmallInteger)
    u_behaviour: Mapped[int] = mapped_column(SmallInteger)
    u_complaints: Mapped[int] = mapped_column(SmallInteger)
    u_facilities: Mapped[int] = mapped_column(SmallInteger)
    suggestion: Mapped[str | None] = mapped_column(Text, nullable=True)


class SurveyTokenUse(Base):
    """A file whose survey link has been used (one response per file)."""

    __tablename__ = "skm_token_use"

    file_id: Mapped[int] = mapped_column(ForeignKey("application_file.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
