"""Recomputing the chains: the first broken link of each chain, named by row, expected and found.

What each check catches: an edited row (its content no longer hashes to its ``row_hash``), a
deleted or inserted row (a gap or a repeat in ``seq``), reordered rows (a ``prev_hash`` that is
not its predecessor's hash), a deleted tail (the chain's head names a later link). A rewrite of
a whole chain, heads included, is caught by the signed daily anchors (app/evidence/anchors.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry, ChainHead
from app.chain import AUDIT_CHAIN, GENESIS, audit_content, history_content, link_hash
from app.engine.models import InstanceEvent, ProcessInstance
from app.files.models import ApplicationFile


@dataclass(frozen=True)
class Break:
    """The first link of a chain that does not hold."""

    chain: str  # "audit" or "file <number>"
    row: str  # which row, e.g. "instance_event 12 (seq 3)"
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.chain}: {self.row}: expected {self.expected}, found {self.found}"


@dataclass
class ChainReport:
    links: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def walk_chain(chain: str, table: str, rows: Iterable[Any], content: Any, head: tuple[int, str]) -> tuple[int, Break | None]:
    """Walk one chain's rows in seq order against its head (last seq, last hash); the number of
    links walked and the first break (or None)."""
    expected_seq, prev, links = 1, GENESIS, 0
    for row in rows:
        links += 1
        where = f"{table} {row.id} (seq {row.seq})"
        if row.seq != expected_seq:
            what = "a deleted row before it" if row.seq > expected_seq else "an inserted or repeated row"
            return links, Break(chain, where, f"seq {expected_seq}", f"seq {row.seq} ({what})")
        if row.prev_hash != prev:
            return links, Break(chain, where, f"prev_hash {prev}", f"{row.prev_hash} (rows reordered or replaced)")
        recomputed = link_hash(row.prev_hash, content(row))
        if recomputed != row.row_hash:
            return links, Break(chain, where, f"row_hash {row.row_hash}", f"{recomputed} (row content changed)")
        prev, expected_seq = row.row_hash, expected_seq + 1
    if (expected_seq - 1, prev) != head:
        return links, Break(chain, f"head (seq {head[0]})", f"last link seq {head[0]} hash {head[1]}",
                            f"seq {expected_seq - 1} hash {prev} (rows deleted at the end)")
    return links, None


def verify_audit(session: Session) -> ChainReport:
    """The global audit chain against its head row."""
    head_row = session.get(ChainHead, AUDIT_CHAIN)
    head = (head_row.seq, head_row.row_hash) if head_row else (0, GENESIS)
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq, AuditEntry.id).execution_options(yield_per=1000))
    try:
        links, broken = walk_chain("audit", "audit_entry", rows, audit_content, head)
    finally:
        rows.close()  # a walk that stops at a break leaves a server-side cursor open
    return ChainReport(links, [broken] if broken else [])


def verify_histories(session: Session, file_number: str | None = None) -> ChainReport:
    """Every file's history (or one file's) against the head kept on its process instance."""
    instances = select(ProcessInstance.id, ProcessInstance.history_seq, ProcessInstance.history_head)
    events = select(InstanceEvent).order_by(InstanceEvent.instance_id, InstanceEvent.seq, InstanceEvent.id)
    if file_number is not None:
        instance_id = session.scalar(select(ApplicationFile.instance_id).where(ApplicationFile.file_number == file_number))
        if instance_id is None:
            raise LookupError(f"no file {file_number!r} (or it has no process)")
        instances = instances.where(ProcessInstance.id == instance_id)
        events = events.where(InstanceEvent.instance_id == instance_id)
    heads = {i: (seq, head) for i, seq, head in session.execute(instances)}
    report = ChainReport()
    rows = session.scalars(events.execution_options(yield_per=1000))
    seen: set[int] = set()
    for instance_id, group in _grouped(rows):
        seen.add(instance_id)
        links, broken = walk_chain("", "instance_event", group, history_content, heads.get(instance_id, (0, GENESIS)))
        report.links += links
        if broken:
            report.breaks.append(replace(broken, chain=_file_label(session, instance_id)))
    for instance_id in sorted(heads.keys() - seen):
        _, broken = walk_chain("", "instance_event", [], history_content, heads[instance_id])
        if broken:  # a head with no rows: the whole history was deleted
            report.breaks.append(replace(broken, chain=_file_label(session, instance_id)))
    return report


def _grouped(rows: Iterable[InstanceEvent]) -> Iterator[tuple[int, list[InstanceEvent]]]:
    for instance_id, group in groupby(rows, key=lambda row: row.instance_id):
        yield instance_id, list(group)


def _file_label(session: Session, instance_id: int) -> str:
    number = session.scalar(select(ApplicationFile.file_number).where(ApplicationFile.instance_id == instance_id))
    return f"file {number}" if number else f"process instance {instance_id}"
