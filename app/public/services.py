"""Public tracking: what anyone holding a file's number and PIN may see.

Only the steps done (their names and dates), the steps open now and the promised
date: never the applicant's name or NIK, the documents, or who handled the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.models import HumanTask
from app.files.intake import pin_matches
from app.files.models import ApplicationFile

FILE_NUMBER_MAX = 40


@dataclass(frozen=True)
class PublicStep:
    title: str
    finished_at: datetime


@dataclass(frozen=True)
class PublicStatus:
    file_number: str
    permit_name: str
    received_at: datetime
    done: list[PublicStep]
    current: list[str]
    promised_date: date | None
    finished_at: datetime | None  # the procedure has ended


def normalise_file_number(text: str) -> str:
    return (text or "").strip().upper()[:FILE_NUMBER_MAX]


def track_file(session: Session, file_number: str, pin: str) -> PublicStatus | None:
    """The public status of a file, or None when the number or the PIN is wrong (the two are
    not told apart, and take the same time)."""
    file = session.scalars(select(ApplicationFile).where(
        ApplicationFile.file_number == normalise_file_number(file_number))).first()
    if not pin_matches(file, (pin or "").strip()[:20]) or file is None or file.instance is None:
        return None
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)
                            .order_by(HumanTask.created_at, HumanTask.id)).all()
    instance = file.instance
    return PublicStatus(
        file_number=file.file_number or "",
        permit_name=instance.definition.name,
        received_at=file.created_at,
        done=[PublicStep(t.title, t.completed_at) for t in tasks if t.status == "completed" and t.completed_at],
        current=[t.title for t in tasks if t.status == "open"],
        promised_date=file.promised_date,
        finished_at=instance.completed_at if instance.status == "completed" else None,
    )
