"""Health of the service: database, broker, and the workers' heartbeats."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.clock import Clock
from app.db import Database
from app.forms.registry import FormRegistry
from app.ops.models import WorkerHeartbeat

log = logging.getLogger(__name__)


def record_heartbeat(session: Session, worker: str, clock: Clock) -> None:
    """Upsert this worker's heartbeat."""
    row = session.get(WorkerHeartbeat, worker)
    if row is None:
        session.add(WorkerHeartbeat(worker=worker, beat_at=clock.now()))
    else:
        row.beat_at = clock.now()
    session.flush()


def check_health(database: Database, broker_url: str, clock: Clock, max_heartbeat_age: float) -> tuple[bool, dict[str, Any]]:
    """(all fine?, report) for /healthz."""
    report: dict[str, Any] = {}
    last_beat: datetime | None = None
    integrity: dict[str, Any] | None = None
    try:
        with database.unit_of_work() as session:
            session.execute(text("SELECT 1"))
            last_beat = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
            integrity = _integrity(session)
        report["database"] = {"ok": True}
    except Exception as exc:
        report["database"] = {"ok": False, "error": type(exc).__name__ + ": " + str(exc).splitlines()[0]}
    if database.engine.dialect.name == "sqlite":
        report["database_integrity"] = sqlite_integrity(database)
    report["broker"] = _check_broker(broker_url)
    if last_beat is None:
        report["worker"] = {"ok": False, "last_heartbeat_age_seconds": None, "error": "no heartbeat yet"}
    else:
        age = (clock.now() - last_beat).total_seconds()
        report["worker"] = {"ok": age <= max_heartbeat_age, "last_heartbeat_age_seconds": round(age, 1)}
    if integrity is not None:
        report["integrity"] = integrity
    ok = all(part["ok"] for part in report.values())
    report["status"] = "ok" if ok else "degraded"
    return ok, report


def _check_broker(url: str) -> dict[str, Any]:
    from kombu.connection import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": url.split(":", 1)[0]}
    except Exception as exc:
        return {"ok": False, "transport": url.split(":", 1)[0], "error": type(exc).__name__ + ": " + str(exc)[:200]}


# ---------------------------------------------------------------------------
# Forms and diagrams that cannot be used (issue 10 item 11): `make run` and `ptsp deploy`
# deploy the good ones and report these; /healthz keeps saying so until they are fixed.
_DIAGRAM_CHECKS: dict[str, tuple[object, list[str]]] = {}


def check_definitions(forms: FormRegistry, processes_dir: Path, max_bpmn_bytes: int) -> dict[str, Any]:
    """{"ok", "broken_forms": {name: reason}, "broken_diagrams": {file: reason}} for forms/ and
    processes/*.bpmn (each diagram re-checked only when it or the broken forms change)."""
    from app.designer.validation import validate_diagram

    broken_forms = forms.broken()
    names = forms.names()
    broken_diagrams: dict[str, str] = {}
    for path in sorted(processes_dir.glob("*.bpmn")):
        try:
            stat = path.stat()
            stamp: object = (stat.st_mtime_ns, stat.st_size, tuple(sorted(broken_forms.items())), tuple(sorted(names)))
            hit = _DIAGRAM_CHECKS.get(path.name)
            if hit is None or hit[0] != stamp:
                problems = validate_diagram(path.read_bytes(), path.name, known_forms=names,
                                            max_bytes=max_bpmn_bytes, broken_forms=broken_forms)
                hit = (stamp, [f"{p['element_id'] or 'file'}: {p['message']}" for p in problems])
                _DIAGRAM_CHECKS[path.name] = hit
        except OSError as exc:
            hit = (None, [f"unreadable: {exc}"])
        if hit[1]:
            broken_diagrams[path.name] = "; ".join(hit[1][:5]) + (f" (+{len(hit[1]) - 5})" if len(hit[1]) > 5 else "")
    return {"ok": not broken_forms and not broken_diagrams, "broken_forms": broken_forms,
            "broken_diagrams": broken_diagrams}
# SQLite file -> (mtime_ns, size, checked at (monotonic), result): one quick_check per change of the
# file or per INTEGRITY_RECHECK_SECONDS, so /healthz stays cheap while still noticing corruption.
_INTEGRITY: dict[str, tuple[int, int, float, dict[str, Any]]] = {}
_INTEGRITY_LOCK = threading.Lock()
INTEGRITY_RECHECK_SECONDS = 300.0


def sqlite_integrity(database: Database, *, force: bool = False) -> dict[str, Any]:
    """``{"ok": ...}`` from SQLite's ``PRAGMA quick_check`` (every page and index of the file read
    once; a partly corrupt file fails it where ``SELECT 1`` succeeds). Cached until the file
    changes size or time, and at most INTEGRITY_RECHECK_SECONDS; run at start-up by ``create_app``.
    Only for SQLite: PostgreSQL checksums its own pages."""
    path = database.engine.url.database or ""
    try:
        stat = Path(path).stat()
        key = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = (0, 0)
    with _INTEGRITY_LOCK:
        cached = _INTEGRITY.get(path)
        if (not force and cached is not None and cached[:2] == key
                and time.monotonic() - cached[2] < INTEGRITY_RECHECK_SECONDS):
            return cached[3]
        try:
            with database.engine.connect() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(5)")]
            result: dict[str, Any] = {"ok": rows == ["ok"]}
            if rows != ["ok"]:
                result["error"] = "; ".join(str(r) for r in rows)[:500]
        except Exception as exc:  # a file too damaged to open is exactly what this reports
            result = {"ok": False, "error": type(exc).__name__ + ": " + str(exc).splitlines()[0][:300]}
        if not result["ok"]:
            log.error("SQLite database %s is corrupt: %s", path, result["error"])
        _INTEGRITY[path] = (*key, time.monotonic(), result)
        return result


def _integrity(session: Session) -> dict[str, Any] | None:
    """The last check of the hash chains (app/evidence): degraded while it found a break."""
    from app.evidence.services import latest_check

    check = latest_check(session)
    if check is None:
        return None
    return {"ok": check.ok, "checked_at": check.at.isoformat(), "links_checked": check.links_checked,
            "problem": (check.problem or "").splitlines()[0] if check.problem else None}
