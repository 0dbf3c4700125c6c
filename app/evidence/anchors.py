"""Daily anchors: the heads of every chain, signed by the office key and written to var/anchors/.

An anchor is ``YYYY-MM-DD.json`` (the heads, and the SHA-256 of the previous anchor) with a
detached signature ``YYYY-MM-DD.json.sig`` (DER, SHA-256) made by the office's signing key, whose
certificate is kept beside them as ``office-cert.pem``. Copies held outside the server (the
inspector's, a mail archive) make a rewrite of a whole chain detectable: the rewritten rows no
longer carry the hashes the anchors published.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry, ChainHead
from app.chain import AUDIT_CHAIN
from app.config import Settings
from app.engine.models import InstanceEvent, ProcessInstance
from app.evidence.keys import OfficeIdentity
from app.evidence.verify import Break
from app.files.models import ApplicationFile

ANCHOR_DIR = "anchors"


@dataclass(frozen=True)
class Anchor:
    path: Path
    content: dict[str, Any]
    signed: bool


def anchor_dir(settings: Settings) -> Path:
    return settings.var_dir / ANCHOR_DIR


def write_anchor(session: Session, settings: Settings, identity: OfficeIdentity, now: datetime) -> Path:
    """Publish today's heads (rewriting today's anchor if run again the same day)."""
    folder = anchor_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    earlier = [p for p in sorted(folder.glob("*.json")) if p.stem < day]
    audit = session.get(ChainHead, AUDIT_CHAIN)
    files = {
        str(instance_id): {"file_number": number, "seq": seq, "hash": head}
        for instance_id, seq, head, number in session.execute(
            select(ProcessInstance.id, ProcessInstance.history_seq, ProcessInstance.history_head,
                   ApplicationFile.file_number)
            .join(ApplicationFile, ApplicationFile.instance_id == ProcessInstance.id, isouter=True)
            .where(ProcessInstance.history_seq > 0).order_by(ProcessInstance.id))
    }
    content = {
        "date": day, "generated_at": now.isoformat(), "office": settings.office_name,
        "previous_anchor_sha256": hashlib.sha256(earlier[-1].read_bytes()).hexdigest() if earlier else None,
        "audit": {"seq": audit.seq if audit else 0, "hash": audit.row_hash if audit else None},
        "files": files,
    }
    data = json.dumps(content, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")
    path = folder / f"{day}.json"
    path.write_bytes(data)
    Path(f"{path}.sig").write_bytes(identity.sign(data))
    (folder / "office-cert.pem").write_bytes(identity.certificate_pem() + identity.ca_pem())
    return path


def list_anchors(settings: Settings, identity: OfficeIdentity) -> list[Anchor]:
    """Every anchor, oldest first, with whether its signature verifies."""
    anchors = []
    for path in sorted(anchor_dir(settings).glob("*.json")):
        data = path.read_bytes()
        sig = Path(f"{path}.sig")
        signed = sig.exists() and identity.verify(data, sig.read_bytes())
        try:
            content = json.loads(data)
        except ValueError:
            content = {}
        anchors.append(Anchor(path, content, signed))
    return anchors


def verify_anchors(session: Session, settings: Settings, identity: OfficeIdentity) -> tuple[int, list[Break]]:
    """Check every anchor (signature, link to the previous one) and that every head it published
    is still in the database with the same hash; (heads checked, breaks)."""
    breaks: list[Break] = []
    checked = 0
    previous: bytes | None = None
    for anchor in list_anchors(settings, identity):
        chain = f"anchor {anchor.path.name}"
        data = anchor.path.read_bytes()
        if not anchor.signed:
            breaks.append(Break(chain, "signature", "a signature by the office key", "none, or one that does not verify"))
            previous = data
            continue
        expected_previous = hashlib.sha256(previous).hexdigest() if previous is not None else None
        if anchor.content.get("previous_anchor_sha256") != expected_previous:
            breaks.append(Break(chain, "previous_anchor_sha256", str(expected_previous),
                                f"{anchor.content.get('previous_anchor_sha256')} (an anchor was removed or replaced)"))
        previous = data
        audit = anchor.content.get("audit") or {}
        if audit.get("seq"):
            checked += 1
            found = session.scalar(select(AuditEntry.row_hash).where(AuditEntry.seq == audit["seq"]))
            if found != audit.get("hash"):
                breaks.append(Break(chain, f"audit_entry seq {audit['seq']}", f"row_hash {audit.get('hash')}",
                                    f"{found or 'no such row'} (the audit chain was rewritten)"))
        heads = anchor.content.get("files") or {}
        items = [(int(k), v) for k, v in heads.items()]
        for start in range(0, len(items), 500):
            batch = items[start:start + 500]
            stored = {(i, s): h for i, s, h in session.execute(
                select(InstanceEvent.instance_id, InstanceEvent.seq, InstanceEvent.row_hash).where(
                    tuple_(InstanceEvent.instance_id, InstanceEvent.seq).in_([(i, v["seq"]) for i, v in batch])))}
            for instance_id, head in batch:
                checked += 1
                found = stored.get((instance_id, head["seq"]))
                if found != head["hash"]:
                    label = f"file {head.get('file_number')}" if head.get("file_number") else f"process instance {instance_id}"
                    breaks.append(Break(f"{chain}: {label}", f"instance_event seq {head['seq']}",
                                        f"row_hash {head['hash']}", f"{found or 'no such row'} (the history was rewritten)"))
    return checked, breaks
