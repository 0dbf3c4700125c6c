"""Public tracking: what anyone holding a file's number and PIN may see.

Only the steps done (their names and dates), the steps open now and the promised
date: never the applicant's name or NIK, the documents, or who handled the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.engine.models import HumanTask, InstanceStatus, TaskStatus
from app.files.intake import permit_intake
from app.files.models import ApplicationFile
from app.files.pins import pin_matches
from app.files.services import missing_documents
from app.permits.services import file_outcome
from app.sla.promise import Promise, promise_of
from app.sla.services import OfficeCalendar
from app.sla.tracking import is_true, task_properties

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
    promise: Promise
    finished_at: datetime | None  # the procedure has ended
    outcome: str | None  # granted|refused once the procedure has ended
    # The applicant must act: what the office waits for, the documents missing, and by when.
    waiting_for: list[str]
    missing: list[str]
    act_by: datetime | None

    @property
    def promised_date(self) -> date | None:
        return self.promise.date


def normalise_file_number(text: str) -> str:
    return (text or "").strip().upper()[:FILE_NUMBER_MAX]


def track_file(session: Session, file_number: str, pin: str, office_calendar: OfficeCalendar, settings: Settings,
               now: datetime) -> PublicStatus | None:
    """The public status of a file, or None when the number or the PIN is wrong (the two are
    not told apart, and take the same time)."""
    file = session.scalars(select(ApplicationFile).where(
        ApplicationFile.file_number == normalise_file_number(file_number))).first()
    if not pin_matches(file, (pin or "").strip()[:20], settings.secret_key) or file is None or file.instance is None:
        return None
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)
                            .order_by(HumanTask.created_at, HumanTask.id)).all()
    instance = file.instance
    user_tasks = instance.definition.user_tasks or {}
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    waiting = [t for t in open_tasks if is_true(task_properties(user_tasks, t.task_name).get("waitingOnApplicant"))]
    finished = instance.status == InstanceStatus.COMPLETED
    return PublicStatus(
        file_number=file.file_number or "",
        permit_name=instance.definition.name,
        received_at=file.created_at,
        done=[PublicStep(t.title, t.completed_at) for t in tasks if t.status == TaskStatus.COMPLETED and t.completed_at],
        current=[t.title for t in open_tasks],
        promise=promise_of(file, office_calendar, settings, now),
        finished_at=instance.completed_at if finished else None,
        outcome=file_outcome(session, file) if finished else None,
        waiting_for=[t.title for t in waiting],
        missing=missing_document_labels(session, file) if waiting else [],
        act_by=min((t.due_at for t in waiting if t.due_at is not None), default=None),
    )


def missing_document_labels(session: Session, file: ApplicationFile) -> list[str]:
    """The names of the documents the office found missing."""
    intake = permit_intake(file.process_id)
    labels = intake.document_labels if intake else {}
    return [labels.get(kind, kind) for kind in missing_documents(session, file)]
