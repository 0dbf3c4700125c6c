"""Who read an applicant's personal data (UU 27/2022), and when the NIK may be shown unmasked.

Every view of personal data writes one INSERT (a page listing several files writes one
multi-row INSERT). The NIK is shown masked everywhere except to an officer whose open step on the
file needs it (:data:`NIK_STEPS`), and then only through an explicit, logged "show NIK" action.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, insert, literal, select
from sqlalchemy.orm import Session

from app.db import UTCDateTime
from app.engine.models import HumanTask, open_task
from app.files.models import ApplicationFile
from app.files.nik import mask_nik
from app.privacy.models import PersonalDataAccess

# The steps whose work is checking the applicant's identity against the documents: the front
# office registering the file, and the verifier checking the documents (first time and after a
# resubmission). Every other step sees the NIK masked.
NIK_STEPS: frozenset[tuple[str, str]] = frozenset({
    ("front_office", "register_application"),
    ("front_office", "receive_resubmission"),
    ("verifier", "check_documents"),
})
KINDS = ("file_page", "task_page", "attachment", "nik", "search")


def record_access(session: Session, actor: str, file_ids: Iterable[int], what: str, ip: str | None, now: datetime,
                  detail: str | None = None) -> None:
    """Log that ``actor`` saw ``what`` of the given files (one statement, whatever their number)."""
    rows = [{"at": now, "actor": actor[:100], "file_id": file_id, "what": what, "ip": (ip or "")[:45] or None,
             "detail": (detail or "")[:200] or None} for file_id in dict.fromkeys(file_ids)]
    if rows:
        session.execute(insert(PersonalDataAccess), rows)


def record_access_by_numbers(session: Session, actor: str, file_numbers: Iterable[str | None], what: str, ip: str | None,
                             now: datetime) -> None:
    """:func:`record_access` for files known by number (a list page): one INSERT ... SELECT."""
    numbers = sorted({n for n in file_numbers if n})
    if not numbers:
        return
    rows = select(literal(now, UTCDateTime), literal(actor[:100]), ApplicationFile.id, literal(what),
                  literal((ip or "")[:45] or None, String)).where(ApplicationFile.file_number.in_(numbers))
    session.execute(insert(PersonalDataAccess).from_select(["at", "actor", "file_id", "what", "ip"], rows))


def may_see_nik(session: Session, user: Any, file: ApplicationFile) -> bool:
    """Whether ``user`` has an open step on ``file`` that needs the NIK unmasked."""
    if file.instance_id is None:
        return False
    lanes: set[str] = set(getattr(user, "lane_names", None) or ())
    steps = {(lane, name) for lane, name in session.execute(
        select(HumanTask.lane, HumanTask.task_name).where(HumanTask.instance_id == file.instance_id,
                                                          open_task()))}
    return any(step in NIK_STEPS and step[0] in lanes for step in steps)


def step_needs_nik(lane: str, task_name: str) -> bool:
    return (lane, task_name) in NIK_STEPS


def masked(data: Any) -> Any:
    """``data`` with every NIK (a value under a key named ``nik``) masked."""
    if isinstance(data, dict):
        return {k: (mask_nik(v) if k.lower().endswith("nik") and isinstance(v, str) else masked(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    actor: str
    file_number: str | None
    what: str
    ip: str | None
    detail: str | None


def access_log(session: Session, *, file_number: str | None = None, actor: str | None = None,
               limit: int = 200) -> list[AccessRow]:
    """The latest accesses to one file's data, or by one officer, newest first."""
    query = (select(PersonalDataAccess, ApplicationFile.file_number)
             .join(ApplicationFile, ApplicationFile.id == PersonalDataAccess.file_id)
             .order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc()).limit(limit))
    if file_number:
        query = query.where(ApplicationFile.file_number == file_number)
    if actor:
        query = query.where(PersonalDataAccess.actor == actor)
    return [AccessRow(a.at, a.actor, number, a.what, a.ip, a.detail) for a, number in session.execute(query)]


def accesses_by_officer(session: Session, limit: int = 100) -> list[tuple[str, int, datetime]]:
    """Per officer: how many views, and the last one."""
    return [(actor, count, last) for actor, count, last in session.execute(
        select(PersonalDataAccess.actor, func.count(), func.max(PersonalDataAccess.at))
        .group_by(PersonalDataAccess.actor).order_by(func.count().desc()).limit(limit))]
