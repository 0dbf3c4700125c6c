"""Firing due BPMN timers: one instance per unit of work, locked while it moves."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from app.engine.errors import ConcurrentUpdate
from app.engine.models import InstanceStatus, ProcessInstance
from app.engine.runtime import FIRE_TIMERS_JOB, Runtime
from app.parts import CoreParts
from app.publisher import enqueue_after_commit

log = logging.getLogger(__name__)


class TimerParts(CoreParts, Protocol):
    """What firing timers needs of the container."""

    runtime: Runtime

# A wake-up's ETA and the stored due time are the same instant up to storage rounding.
_SAME_TIMER = timedelta(milliseconds=1)


def fire_due_timers(c: TimerParts, limit: int = 500) -> int:
    """Advance every running instance whose timer is due; returns how many fired."""
    with c.db.unit_of_work() as session:
        due = c.runtime.due_instance_ids(session, limit)
    return sum(1 for instance_id in due if fire_instance_timers(c, instance_id))


def fire_instance_timers(c: TimerParts, instance_id: int, scheduled_for: datetime | None = None) -> bool:
    """Fire the due timers of one instance in its own transaction.

    ``scheduled_for`` is the due time the wake-up was scheduled for (the job's
    ETA). A wake-up that arrives before that timer is due (clock skew, a broker
    that delivers ETA messages a little early) schedules itself again for the
    due time instead of being dropped; one for a timer that has since changed is
    dropped, since the change scheduled its own wake-up.
    """
    try:
        with c.db.unit_of_work() as session:
            fired = c.runtime.fire_due_timers(session, instance_id)
            if not fired and scheduled_for is not None:
                _reschedule_if_early(c, session, instance_id, scheduled_for)
            return fired
    except ConcurrentUpdate:
        # Someone else moved it at the same moment; their write already
        # recomputed the next timer, and the sweep will look again.
        log.info("instance %s changed while its timer fired; left for the next sweep", instance_id)
        return False


def _reschedule_if_early(c: TimerParts, session: Session, instance_id: int, scheduled_for: datetime) -> None:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.status != InstanceStatus.RUNNING or instance.next_timer_at is None:
        return
    due = instance.next_timer_at
    # ">=": the library fires a timer only once its due time has strictly passed.
    if due >= c.clock.now() and abs(due - scheduled_for) <= _SAME_TIMER:
        log.info("wake-up of instance %s arrived before its timer (due %s); scheduled again", instance_id, due)
        enqueue_after_commit(session, FIRE_TIMERS_JOB, instance_id, eta=due)
