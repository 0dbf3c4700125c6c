"""Who is told when a clock escalates, and what the notice says.

The chain is a setting (``PTSP_SLA_ESCALATION``, parsed by
:func:`app.sla.policy.parse_escalation`); its groups resolve to active users:

``officers``  the officers holding the step: its claimant (``HumanTask.claimed_by``)
              if it has one, else every member of its lane. For a file: those of
              each of its open steps.
``managers``  users with a :class:`~app.sla.models.ManagerResponsibility` whose
              process id and lane match (``None`` matches any).
``head``      members of the lane ``head`` (head of office).
``admins``    users with the role ``admin``.

Defaults: warning -> officers, critical -> managers, breached -> head.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.lanes import LANES
from app.auth.models import LaneMembership, User
from app.engine.models import HumanTask, ProcessDefinition, open_task
from app.i18n import english_of
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, working_days_left
from app.sla.models import ManagerResponsibility

HEAD_LANE = "head"


class Directory:
    """Resolves recipient groups to users; caches what it read for one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._lanes: dict[str, list[User]] = {}
        self._by_name: dict[str, User | None] = {}
        self._responsibilities: list[tuple[int, str | None, str | None]] | None = None
        self._users: dict[int, User | None] = {}
        self._admins: list[User] | None = None
        self._permit_types: dict[str, str] = {}

    def lane_members(self, lane: str) -> list[User]:
        if lane not in self._lanes:
            self._lanes[lane] = list(self.session.scalars(
                select(User).join(LaneMembership, LaneMembership.user_id == User.id)
                .where(LaneMembership.lane == lane, User.active.is_(True)).order_by(User.id)))
        return self._lanes[lane]

    def user_named(self, username: str) -> User | None:
        if username not in self._by_name:
            self._by_name[username] = self.session.scalars(
                select(User).where(User.username == username, User.active.is_(True))).first()
        return self._by_name[username]

    def _user(self, user_id: int) -> User | None:
        if user_id not in self._users:
            user = self.session.get(User, user_id)
            self._users[user_id] = user if user is not None and user.active else None
        return self._users[user_id]

    def officers(self, tasks: Iterable[HumanTask]) -> list[User]:
        found: list[User] = []
        for task in tasks:
            claimant = getattr(task, "claimed_by", None)
            holder = self.user_named(claimant) if claimant else None
            found.extend([holder] if holder is not None else self.lane_members(task.lane))
        return found

    def managers(self, process_id: str, lanes: Iterable[str]) -> list[User]:
        if self._responsibilities is None:
            self._responsibilities = [tuple(r) for r in self.session.execute(  # type: ignore[misc]
                select(ManagerResponsibility.user_id, ManagerResponsibility.process_id, ManagerResponsibility.lane))]
        wanted = set(lanes)
        found = []
        for user_id, scope_process, scope_lane in self._responsibilities:
            if scope_process not in (None, process_id):
                continue
            if scope_lane is not None and scope_lane not in wanted:
                continue
            user = self._user(user_id)
            if user is not None:
                found.append(user)
        return found

    def admins(self) -> list[User]:
        if self._admins is None:
            self._admins = list(self.session.scalars(
                select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id)))
        return self._admins

    def resolve(self, groups: Sequence[str], process_id: str, tasks: Sequence[HumanTask]) -> list[User]:
        """The distinct users of ``groups`` for a file of ``process_id`` at ``tasks``."""
        users: list[User] = []
        for group in groups:
            if group == "officers":
                users.extend(self.officers(tasks))
            elif group == "managers":
                users.extend(self.managers(process_id, [t.lane for t in tasks]))
            elif group == "head":
                users.extend(self.lane_members(HEAD_LANE))
            elif group == "admins":
                users.extend(self.admins())
        unique = {u.id: u for u in users}
        return [unique[k] for k in sorted(unique)]

    def permit_type(self, process_id: str) -> str:
        """The permit type's name (its latest definition's)."""
        if process_id not in self._permit_types:
            name = self.session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.process_id == process_id)
                                       .order_by(ProcessDefinition.version.desc()).limit(1))
            self._permit_types[process_id] = name or process_id
        return self._permit_types[process_id]

    def officer_label(self, task: HumanTask) -> str:
        claimant = getattr(task, "claimed_by", None)
        user = self.user_named(claimant) if claimant else None
        if user is not None:
            return user.full_name
        lane = LANES.get(task.lane)
        return f"{lane['id']} / {english_of(lane['id']) or lane['id']}" if lane else task.lane


def notice_detail(directory: Directory, calendar: WorkingCalendar, hours: OfficeHours, *, file_number: str | None,
                  process_id: str, tasks: Sequence[HumanTask], due: datetime, now: datetime,
                  scope: str) -> dict[str, Any]:
    """What a notice says, frozen when it is created."""
    return {
        "scope": scope,  # "file" (the legal clock) or "task" (one step's due time)
        "file_number": file_number,
        "process_id": process_id,
        "permit_type": directory.permit_type(process_id),
        "step": ", ".join(t.title for t in tasks) or "-",
        "lane": ", ".join(sorted({t.lane for t in tasks})),
        "officer": ", ".join(dict.fromkeys(directory.officer_label(t) for t in tasks)) or "-",
        "due_at": due.isoformat(),
        "working_days_left": round(working_days_left(calendar, hours, now, due), 2),
        "timezone": calendar.timezone.key,
    }


def open_tasks_of(session: Session, instance_ids: Iterable[int]) -> dict[int, list[HumanTask]]:
    """Open steps of several instances in one query."""
    ids = list(instance_ids)
    result: dict[int, list[HumanTask]] = {i: [] for i in ids}
    if not ids:
        return result
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), open_task())
                                .order_by(HumanTask.id)):
        result[task.instance_id].append(task)
    return result


__all__ = ["HEAD_LANE", "Directory", "notice_detail", "open_tasks_of"]
