"""Retention of applicants' documents (README: "Evidence and signatures", retention policy).

The attachments of a file closed (completed or cancelled) longer than ``retention_days`` are
removed: their rows stay, marked ``removed_at``, and the removal is appended to the file's
hash-chained history (what was removed, with each document's SHA-256), so the chain stays whole
and says what happened. The bytes are deleted only after the transaction commits, and only when no
kept attachment shares them (storage is by content hash).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.engine.history import append_event
from app.engine.models import ProcessInstance
from app.files.models import ApplicationFile, Attachment
from app.files.storage import attachment_path

ACTOR = "system:retention"


@dataclass
class RetentionOutcome:
    cutoff: datetime
    files: int = 0
    attachments: int = 0
    to_delete: list[Path] = field(default_factory=list)


def apply_retention(session: Session, settings: Settings, now: datetime, *, dry_run: bool = False) -> RetentionOutcome:
    """Mark the attachments of files closed before the cutoff removed and record it in each
    file's history; the bytes to delete after commit are in ``to_delete``."""
    outcome = RetentionOutcome(cutoff=now - timedelta(days=settings.retention_days))
    closed_at = func.coalesce(ProcessInstance.completed_at, ProcessInstance.updated_at)
    due = session.execute(
        select(ApplicationFile, ProcessInstance).join(ProcessInstance, ApplicationFile.instance_id == ProcessInstance.id)
        .where(ProcessInstance.status.in_(("completed", "cancelled")), closed_at < outcome.cutoff,
               select(Attachment.id).where(Attachment.file_id == ApplicationFile.id,
                                           Attachment.removed_at.is_(None)).exists())
        .order_by(ApplicationFile.id)).all()
    removed: dict[str, Attachment] = {}  # by content hash
    for file, instance in due:
        attachments = list(session.scalars(select(Attachment).where(
            Attachment.file_id == file.id, Attachment.removed_at.is_(None)).order_by(Attachment.id)))
        outcome.files += 1
        outcome.attachments += len(attachments)
        if dry_run:
            continue
        for attachment in attachments:
            attachment.removed_at = now
            removed[attachment.sha256] = attachment
        append_event(session, instance, "attachments_removed", ACTOR, now, None, {
            "policy_days": settings.retention_days,
            "attachments": [{"id": a.id, "document_type": a.document_type, "filename": a.filename,
                             "sha256": a.sha256} for a in attachments]})
    session.flush()
    if removed:
        still_kept = set(session.scalars(select(Attachment.sha256).where(
            Attachment.sha256.in_(removed), Attachment.removed_at.is_(None))))
        outcome.to_delete = [attachment_path(settings.var_dir, removed[h]) for h in sorted(removed.keys() - still_kept)]
    return outcome


def delete_removed_bytes(outcome: RetentionOutcome) -> int:
    """After commit: delete the bytes no kept attachment uses any more."""
    deleted = 0
    for path in outcome.to_delete:
        if path.exists():
            path.unlink()
            deleted += 1
    return deleted
