"""Firing due BPMN timers: one instance per unit of work, locked while it moves."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.engine.errors import ConcurrentUpdate

if TYPE_CHECKING:
    from app.container import Container

log = logging.getLogger(__name__)


def fire_due_timers(c: Container, limit: int = 500) -> int:
    """Advance every running instance whose timer is due; returns how many fired."""
    with c.db.unit_of_work() as session:
        due = c.runtime.due_instance_ids(session, limit)
    return sum(1 for instance_id in due if fire_instance_timers(c, instance_id))


def fire_instance_timers(c: Container, instance_id: int) -> bool:
    """Fire the due timers of one instance in its own transaction."""
    try:
        with c.db.unit_of_work() as session:
            return c.runtime.fire_due_timers(session, instance_id)
    except ConcurrentUpdate:
        # Someone else moved it at the same moment; their write already
        # recomputed the next timer, and the sweep will look again.
        log.info("instance %s changed while its timer fired; left for the next sweep", instance_id)
        return False
