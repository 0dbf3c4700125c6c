"""Thin Celery tasks: ids in, one app service call, one commit."""
from __future__ import annotations

import socket

from celery import shared_task

from app.container import container
from app.engine.timers import fire_due_timers, fire_instance_timers
from app.ops.services import record_heartbeat


@shared_task(name="workers.tasks.fire_timers", acks_late=True)
def fire_timers(instance_id: int) -> bool:
    """Fire the due timers of one instance (scheduled for the timer's due time)."""
    return fire_instance_timers(container(), instance_id)


@shared_task(name="workers.tasks.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    """Fire every due timer the scheduled wake-ups missed (downtime, lost messages)."""
    return fire_due_timers(container())


@shared_task(name="workers.tasks.heartbeat", bind=True)
def heartbeat(self) -> None:  # type: ignore[no-untyped-def]
    c = container()
    with c.db.unit_of_work() as session:
        record_heartbeat(session, self.request.hostname or socket.gethostname(), c.clock)
