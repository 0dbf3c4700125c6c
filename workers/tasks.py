"""Thin Celery tasks: ids in, one app service call, one commit."""
from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime, timedelta

from app.container import container
from app.desk.report import run_report
from app.desk.rollup import refresh_rollups
from app.engine.timers import fire_due_timers, fire_instance_timers
from app.files.storage import sweep_attachments as sweep_staged
from app.notify.delivery import deliver
from app.ops.services import record_heartbeat
from app.ops.sweep_lock import sweep_lock
from app.sla.sweep import sla_sweep as run_sla_sweep
from workers.jobs import BoundTask, bound_job, job


@bound_job(name="workers.tasks.fire_timers", acks_late=True)
def fire_timers(self: BoundTask, instance_id: int) -> bool:
    """Fire the due timers of one instance (scheduled for the timer's due time);
    a wake-up that arrives early schedules itself again for the due time."""
    return fire_instance_timers(container(), instance_id, scheduled_for=_eta(self.request.eta))


@job(name="workers.tasks.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    """Fire every due timer the scheduled wake-ups missed (downtime, lost messages); a no-op
    while another beat's sweep runs."""
    c = container()
    with sweep_lock(c, "timers") as held:
        return fire_due_timers(c) if held else 0


@bound_job(name="workers.tasks.heartbeat")
def heartbeat(self: BoundTask) -> None:
    c = container()
    with c.db.unit_of_work() as session:
        record_heartbeat(session, self.request.hostname or socket.gethostname(), c.clock)


@job(name="workers.tasks.sla_sweep", acks_late=True)
def sla_sweep() -> dict[str, int]:
    """Move every SLA state due to change and create its notices; re-enqueue lost deliveries;
    a no-op (``{}``) while another beat's sweep runs."""
    c = container()
    with sweep_lock(c, "sla") as held:
        return dataclasses.asdict(run_sla_sweep(c)) if held else {}


@job(name="workers.tasks.sweep_attachments")
def sweep_attachments() -> dict[str, int]:
    """Remove staged uploads that no commit recorded (see app/files/storage.py)."""
    c = container()
    with c.db.unit_of_work() as session:
        report = sweep_staged(session, c.settings.var_dir, timedelta(seconds=c.settings.attachment_grace_seconds))
    return dataclasses.asdict(report)


@job(name="workers.tasks.desk_rollup", acks_late=True)
def desk_rollup() -> dict[str, int]:
    """Bring the dashboard's rollup rows up to date (app/desk/rollup.py)."""
    return dataclasses.asdict(refresh_rollups(container()))


@job(name="workers.tasks.monthly_report", acks_late=True)
def monthly_report(report_id: int) -> str:
    """Build one queued monthly report (PDF, CSV, XLSX); its page shows the progress."""
    return run_report(container(), report_id)


@job(name="workers.tasks.deliver_notice", acks_late=True)
def deliver_notice(delivery_id: int) -> str:
    """Send one notice delivery (claimed, so running it twice sends it once)."""
    return deliver(container(), delivery_id).status


@job(name="workers.tasks.integrity_check", acks_late=True)
def integrity_check() -> bool:
    """Daily: recompute every hash chain, check the anchors, tell administrators of a break,
    publish today's signed anchor. True when every chain holds."""
    from app.evidence.keys import office_identity
    from app.evidence.services import run_daily

    c = container()
    with c.db.unit_of_work() as session:
        return run_daily(session, c.settings, office_identity(c.settings), c.clock.now()).ok


def _eta(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
