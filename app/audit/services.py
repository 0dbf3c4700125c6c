"""Recording and reading audit entries. Services flush; the caller commits."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry, ChainHead
from app.chain import AUDIT_CHAIN, GENESIS, audit_content, link_hash
from app.clock import SYSTEM_CLOCK, Clock


class _Row(Protocol):
    __tablename__: str
    id: Any


Subject = tuple[str, "str | int"] | _Row


def subject_key(subject: Subject) -> tuple[str, str]:
    """``(type, id)`` of a subject given as a tuple or as a database row."""
    if isinstance(subject, tuple):
        kind, ident = subject
        return str(kind), str(ident)
    return subject.__tablename__, str(subject.id)


def record(session: Session, actor: str, action: str, subject: Subject, detail: dict[str, Any] | None = None,
           *, clock: Clock = SYSTEM_CLOCK, at: datetime | None = None) -> AuditEntry:
    """Add one audit entry in the caller's transaction.

    ``subject`` is a ``(type, id)`` pair (e.g. ``("process", "building_permit")``) or a row
    (its table name and id are used); ``detail`` must be JSON-serialisable.
    """
    kind, ident = subject_key(subject)
    head = _locked_head(session)
    entry = AuditEntry(seq=head.seq + 1, at=at or clock.now(), actor=actor[:100], action=action[:60],
                       subject_type=kind[:60], subject_id=ident[:200],
                       detail=json.loads(json.dumps(detail or {})), prev_hash=head.row_hash)
    entry.row_hash = link_hash(entry.prev_hash, audit_content(entry))
    head.seq, head.row_hash = entry.seq, entry.row_hash
    session.add(entry)
    session.flush()
    return entry


def _locked_head(session: Session) -> ChainHead:
    """The audit chain's head, locked until the caller's transaction ends (writers line up behind it)."""
    head = session.scalars(select(ChainHead).where(ChainHead.name == AUDIT_CHAIN).with_for_update()).first()
    if head is None:  # the first entry ever (or after the table was emptied)
        head = ChainHead(name=AUDIT_CHAIN, seq=0, row_hash=GENESIS)
        session.add(head)
    return head


def entries_for(session: Session, subject: Subject, limit: int = 50) -> list[AuditEntry]:
    """The latest entries about one subject, newest first."""
    kind, ident = subject_key(subject)
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == kind, AuditEntry.subject_id == ident)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


def recent(session: Session, limit: int = 20, actions: tuple[str, ...] | None = None) -> list[AuditEntry]:
    """The latest entries (optionally of some actions only), newest first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(session.scalars(query))
