"""Health of the service: database, broker, and the workers' heartbeats."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.clock import Clock
from app.db import Database
from app.ops.models import WorkerHeartbeat


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
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": url.split(":", 1)[0]}
    except Exception as exc:
        return {"ok": False, "transport": url.split(":", 1)[0], "error": type(exc).__name__ + ": " + str(exc)[:200]}


def _integrity(session: Session) -> dict[str, Any] | None:
    """The last check of the hash chains (app/evidence): degraded while it found a break."""
    from app.evidence.services import latest_check

    check = latest_check(session)
    if check is None:
        return None
    return {"ok": check.ok, "checked_at": check.at.isoformat(), "links_checked": check.links_checked,
            "problem": (check.problem or "").splitlines()[0] if check.problem else None}
