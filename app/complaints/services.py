"""Complaints: submitted by anyone holding a file's tracking number and PIN, told to every
manager through the notice inbox in the same transaction, answered by a manager, and the
answer shown to the applicant.

Each complaint becomes one in-app notice per active manager (level ``"complaint"``). A notice is
unique per (file, task_key, level, recipient); complaints use ``task_key = -complaint.id`` so they
never collide with a step's notices (whose keys are human-task ids, or 0 for the file's clock).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.clock import Clock
from app.complaints.models import CATEGORIES, Complaint, ComplaintStatus
from app.engine.errors import NotFound
from app.errors import Forbidden, Invalid
from app.files.models import ApplicationFile
from app.files.pins import pin_matches
from app.i18n import N_
from app.notify.models import Notice

MESSAGE_MIN, MESSAGE_MAX = 10, 4000
ANSWER_MIN, ANSWER_MAX = 10, 4000
NOTICE_LEVEL = "complaint"
ANSWERERS = ("manager", "admin")
_CONTACT = re.compile(r"^([^@\s]+@[^@\s]+\.[^@\s]+|(\+62|62|0)[0-9]{8,13})$")


class ComplaintInvalid(Invalid):
    """What was entered cannot be accepted; ``errors`` maps field names to message keys. Nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class WrongFileOrPin(Invalid):
    """The tracking number or the PIN is wrong (the two are not told apart)."""


class NotAllowed(Forbidden):
    """The user may not do this; nothing was changed."""


@dataclass(frozen=True)
class ComplaintForm:
    file_number: str
    pin: str
    category: str
    message: str
    contact_name: str = ""
    contact: str = ""


def complaint_errors(form: ComplaintForm) -> dict[str, str]:
    """Problems of a submitted complaint by field (message keys, Indonesian)."""
    errors = {}
    if form.category not in CATEGORIES:
        errors["category"] = N_("Pilih jenis pengaduan.")
    if not MESSAGE_MIN <= len(form.message.strip()) <= MESSAGE_MAX:
        errors["message"] = N_("Uraian pengaduan 10 sampai 4.000 karakter.")
    if len(form.contact_name.strip()) > 150:
        errors["contact_name"] = N_("Nama paling panjang 150 karakter.")
    if form.contact.strip() and not _CONTACT.match(form.contact.strip()):
        errors["contact"] = N_("Isi nomor telepon Indonesia atau alamat surel yang benar, atau kosongkan.")
    return errors


def find_file(session: Session, file_number: str, pin: str, secret_key: str) -> ApplicationFile:
    """The file with this number when ``pin`` is its tracking PIN; raises :class:`WrongFileOrPin`."""
    file = session.scalars(select(ApplicationFile).where(
        ApplicationFile.file_number == (file_number or "").strip().upper()[:40])).first()
    if not pin_matches(file, (pin or "").strip()[:20], secret_key) or file is None:
        raise WrongFileOrPin("wrong file number or PIN")
    return file


def submit_complaint(session: Session, clock: Clock, form: ComplaintForm, secret_key: str) -> Complaint:
    """Record a complaint about the file the number and PIN open, and tell every active manager.

    Raises :class:`ComplaintInvalid` or :class:`WrongFileOrPin` before writing anything.
    Flushes; the caller commits.
    """
    errors = complaint_errors(form)
    if errors:
        raise ComplaintInvalid(errors)
    file = find_file(session, form.file_number, form.pin, secret_key)
    now = clock.now()
    complaint = Complaint(file_id=file.id, category=form.category, message=form.message.strip(),
                          contact_name=form.contact_name.strip() or None, contact=form.contact.strip() or None,
                          submitted_at=now, status=ComplaintStatus.OPEN)
    session.add(complaint)
    session.flush()
    complaint.reference = f"ADU-{now.year}-{complaint.id:06d}"
    managers = session.scalars(select(User).where(User.role == "manager", User.active.is_(True)).order_by(User.id)).all()
    for manager in managers:
        session.add(Notice(
            file_id=file.id, human_task_id=None, task_key=-complaint.id, level=NOTICE_LEVEL, recipient_id=manager.id,
            created_at=now, detail={"kind": "complaint", "complaint_id": complaint.id, "reference": complaint.reference,
                                    "file_number": file.file_number, "category": complaint.category,
                                    "excerpt": complaint.message[:200]}))
    session.flush()
    return complaint


def open_complaints(session: Session) -> list[Complaint]:
    """Complaints not answered yet, oldest first."""
    return list(session.scalars(select(Complaint).where(Complaint.status == ComplaintStatus.OPEN)
                                .order_by(Complaint.submitted_at, Complaint.id)))


def recent_complaints(session: Session, limit: int = 200) -> list[Complaint]:
    """Open complaints first (oldest first), then the answered ones (newest first)."""
    is_open = case((Complaint.status == ComplaintStatus.OPEN, 0), else_=1)
    rows = session.scalars(select(Complaint).order_by(is_open, Complaint.submitted_at, Complaint.id).limit(limit)).all()
    return [c for c in rows if c.status == ComplaintStatus.OPEN] + sorted(
        (c for c in rows if c.status != ComplaintStatus.OPEN), key=lambda c: c.submitted_at, reverse=True)


def answer_complaint(session: Session, complaint_id: int, user: User, answer: str, clock: Clock) -> Complaint:
    """Store a manager's written answer (shown to the applicant) and close the notices about it."""
    if user.role not in ANSWERERS:
        raise NotAllowed(f"{user.username!r} may not answer complaints")
    answer = (answer or "").strip()
    if not ANSWER_MIN <= len(answer) <= ANSWER_MAX:
        raise ComplaintInvalid({"answer": N_("Jawaban 10 sampai 4.000 karakter.")})
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    now = clock.now()
    complaint.answer = answer
    complaint.answered_at = now
    complaint.answered_by = user.username
    complaint.status = ComplaintStatus.ANSWERED
    for notice in session.scalars(select(Notice).where(Notice.file_id == complaint.file_id,
                                                        Notice.task_key == -complaint.id, Notice.level == NOTICE_LEVEL)):
        if notice.acknowledged_at is None:
            notice.read_at = notice.read_at or now
            notice.acknowledged_at = now
            notice.acknowledged_by = user.username
    session.flush()
    return complaint


def complaints_of_file(session: Session, file: ApplicationFile) -> list[Complaint]:
    """A file's complaints with their answers, oldest first (for the applicant and the tracking page)."""
    return list(session.scalars(select(Complaint).where(Complaint.file_id == file.id)
                                .order_by(Complaint.submitted_at, Complaint.id)))
