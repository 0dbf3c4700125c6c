"""Running the integrity check: chains and anchors, the result recorded, administrators told."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.evidence.anchors import verify_anchors
from app.evidence.keys import OfficeIdentity
from app.evidence.models import IntegrityCheck
from app.evidence.verify import Break, verify_audit, verify_histories

log = logging.getLogger(__name__)


@dataclass
class IntegrityReport:
    links: int = 0
    anchored_heads: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def check_integrity(session: Session, settings: Settings, identity: OfficeIdentity,
                    file_number: str | None = None) -> IntegrityReport:
    """Recompute the audit chain and every file's history (or one file's), and check the anchors."""
    report = IntegrityReport()
    histories = verify_histories(session, file_number)
    report.links += histories.links
    report.breaks += histories.breaks
    if file_number is None:
        audit = verify_audit(session)
        report.links += audit.links
        report.breaks += audit.breaks
        report.anchored_heads, anchor_breaks = verify_anchors(session, settings, identity)
        report.breaks += anchor_breaks
    return report


def record_check(session: Session, report: IntegrityReport, now: datetime) -> IntegrityCheck:
    """Keep the result (for /healthz and the administrators' page)."""
    problem = "\n".join(str(b) for b in report.breaks[:20]) or None
    if problem:
        log.error("integrity check found %d broken chain(s): %s", len(report.breaks), problem)
    row = IntegrityCheck(at=now, ok=report.ok, links_checked=report.links, problem=problem)
    session.add(row)
    session.flush()
    return row


def latest_check(session: Session) -> IntegrityCheck | None:
    return session.scalars(select(IntegrityCheck).order_by(IntegrityCheck.at.desc(), IntegrityCheck.id.desc())).first()


def recent_checks(session: Session, limit: int = 30) -> list[IntegrityCheck]:
    return list(session.scalars(select(IntegrityCheck).order_by(IntegrityCheck.at.desc(), IntegrityCheck.id.desc())
                                .limit(limit)))


def notify_administrators(session: Session, check: IntegrityCheck, report: IntegrityReport) -> int:
    """One in-app notice per active administrator about a failed check (the notice outbox);
    it names the first broken link and, when that is a file's history, links the file."""
    from app.auth.models import User
    from app.files.models import ApplicationFile
    from app.notify.models import Notice

    if report.ok:
        return 0
    first = report.breaks[0]
    number = first.chain.removeprefix("file ") if first.chain.startswith("file ") else None
    file_id = (session.scalar(select(ApplicationFile.id).where(ApplicationFile.file_number == number))
               if number else None)
    admins = list(session.scalars(select(User).where(User.role == "admin", User.active.is_(True))))
    for admin in admins:
        session.add(Notice(file_id=file_id, human_task_id=None, task_key=-check.id, level=NOTICE_LEVEL,
                           recipient_id=admin.id, created_at=check.at,
                           detail={"kind": "integrity", "file_number": number, "problem": str(first),
                                   "breaks": len(report.breaks)}))
    session.flush()
    return len(admins)


NOTICE_LEVEL = "integrity"


def run_daily(session: Session, settings: Settings, identity: OfficeIdentity, now: datetime) -> IntegrityReport:
    """The daily beat task's work: check everything, record it, tell administrators of a break,
    then publish today's anchor (after the check, so a broken chain is never anchored unnoticed)."""
    from app.evidence.anchors import write_anchor

    report = check_integrity(session, settings, identity)
    check = record_check(session, report, now)
    notify_administrators(session, check, report)
    write_anchor(session, settings, identity, now)
    return report
