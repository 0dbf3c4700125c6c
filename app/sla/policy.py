"""SLA states, their thresholds and the escalation chain (pure functions).

A clock (a file's legal clock, or one step's own due time) is in one of four
states, by the working days left before its due time:

=============  ==============================================================
``on_track``   at least ``warning_days`` left
``warning``    from the moment only ``warning_days`` are left
``critical``   from the moment only ``critical_days`` are left
``breached``   the due time has passed (for a file: past its legal limit)
=============  ==============================================================

The thresholds are turned into instants once (:func:`transitions`), so the
state at any time and the next instant it changes are both exact; the sweep
stores that instant in an indexed ``sla_next_check_at`` column and touches a
row only when its state changes. A threshold falling on a day boundary is the
next office opening (see :mod:`app.sla.hours`), so notices go out when the
office is open; only ``breached`` happens at the close of office hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, subtract_working_time
from app.sla_states import BREACHED, CRITICAL, ON_TRACK, STATES, WARNING

__all__ = ["BREACHED", "CRITICAL", "ON_TRACK", "STATES", "WARNING"]  # the states, re-exported for callers of policy

ESCALATION_LEVELS = (WARNING, CRITICAL, BREACHED)
_RANK = {state: i for i, state in enumerate(STATES)}

# Who receives the notices of each level (see README, "SLA and escalations").
RECIPIENT_GROUPS = {
    "officers": "the officers holding the step: its claimant, or else the members of its lane",
    "managers": "managers responsible for the permit type or the lane (manager_responsibility)",
    "head": "members of the lane 'head' (head of office)",
    "admins": "users with the role admin",
}


@dataclass(frozen=True)
class Thresholds:
    """Working days left at which a clock enters ``warning`` and ``critical``."""

    warning_days: float = 3.0
    critical_days: float = 1.0

    def __post_init__(self) -> None:
        if self.critical_days < 0 or self.warning_days < self.critical_days:
            raise ValueError(f"SLA thresholds need warning >= critical >= 0, got {self.warning_days} and {self.critical_days}")


def rank(state: str | None) -> int:
    """Order of states; ``None`` (not tracked) ranks as on track."""
    return _RANK.get(state or ON_TRACK, 0)


def is_escalation(old: str | None, new: str) -> bool:
    """Moving to a worse state is an escalation (notices); a better one is not."""
    return rank(new) > rank(old) and new in ESCALATION_LEVELS


def transitions(calendar: WorkingCalendar, hours: OfficeHours, due: datetime,
                thresholds: Thresholds) -> list[tuple[datetime, str]]:
    """The instants at which a clock due at ``due`` enters each state, earliest first."""
    day = hours.day_length
    return [
        (subtract_working_time(calendar, hours, due, day * thresholds.warning_days), WARNING),
        (subtract_working_time(calendar, hours, due, day * thresholds.critical_days), CRITICAL),
        (due, BREACHED),
    ]


def evaluate(calendar: WorkingCalendar, hours: OfficeHours, now: datetime, due: datetime,
             thresholds: Thresholds) -> tuple[str, datetime | None]:
    """(state at ``now``, the next instant the state changes or ``None`` once breached)."""
    state, upcoming = ON_TRACK, None
    for at, entered in transitions(calendar, hours, due, thresholds):
        if at <= now:
            state = entered if rank(entered) > rank(state) else state
        elif upcoming is None or at < upcoming:
            upcoming = at
    return state, upcoming


def next_check(calendar: WorkingCalendar, hours: OfficeHours, now: datetime, due: datetime,
               thresholds: Thresholds, stored_state: str | None) -> datetime | None:
    """When a clock whose row says ``stored_state`` must next be looked at:
    ``now`` when its state already differs, else the next change."""
    state, upcoming = evaluate(calendar, hours, now, due, thresholds)
    return now if state != (stored_state or ON_TRACK) else upcoming


def parse_escalation(text: str) -> dict[str, tuple[str, ...]]:
    """``"warning=officers;critical=managers;breached=head"`` -> level: recipient groups.

    Several groups per level are separated by commas (``critical=officers,managers``);
    a level left out sends no notices.
    """
    chain: dict[str, tuple[str, ...]] = {}
    for part in (text or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        level, sep, groups = part.partition("=")
        level = level.strip()
        if not sep or level not in ESCALATION_LEVELS:
            raise ValueError(f"escalation entry {part.strip()!r}: expected LEVEL=GROUP[,GROUP] with LEVEL one of "
                             f"{', '.join(ESCALATION_LEVELS)}")
        names = tuple(g.strip() for g in groups.split(",") if g.strip())
        unknown = [g for g in names if g not in RECIPIENT_GROUPS]
        if unknown:
            raise ValueError(f"escalation entry {part.strip()!r}: unknown group(s) {', '.join(unknown)}; "
                             f"known: {', '.join(RECIPIENT_GROUPS)}")
        chain[level] = names
    return chain

