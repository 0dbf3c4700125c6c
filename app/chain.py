"""The hash chains: a file's history (per process instance) and the audit log (one global chain).

Each row stores ``row_hash = sha256(prev_hash | canonical content)`` and the ``prev_hash`` it was
chained to, with a sequence number (1, 2, ...) per chain. The chain's head (last seq and hash) is
kept where the writer already takes a lock: on the process instance row for a file's history (its
optimistic version check makes two concurrent steps fail rather than fork), and in the
``chain_head`` row "audit" (locked FOR UPDATE) for the audit log.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
AUDIT_CHAIN = "audit"


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _when(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def link_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The hash of one link: its predecessor's hash and its own canonical content."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"|" + _canonical(content)).hexdigest()


def history_content(row: Any) -> dict[str, Any]:
    """What a history event's hash covers (every column but its id and the hashes)."""
    return {"instance_id": row.instance_id, "seq": row.seq, "at": _when(row.at), "kind": row.kind,
            "task_name": row.task_name, "actor": row.actor, "detail": row.detail or {}}


def audit_content(row: Any) -> dict[str, Any]:
    """What an audit entry's hash covers (every column but its id and the hashes)."""
    return {"seq": row.seq, "at": _when(row.at), "actor": row.actor, "action": row.action,
            "subject_type": row.subject_type, "subject_id": row.subject_id, "detail": row.detail or {}}
