"""Reading human tasks: the worklist, open tasks of lanes, and what the task page shows.

The worklist reads only indexed columns: per lane, the index
``(status, lane, due_at, created_at, id)`` gives the most urgent tasks in order
(keyset pagination), and the lanes' pages are merged.
"""
from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import UTCDateTime
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance, TaskStatus, open_task
from app.files.models import ApplicationFile
from app.worklist.rules import separated_steps, separation_conflicts, step_title


# ---------------------------------------------------------------------------
# Reading tasks
def task_by_id(session: Session, task_id: int) -> HumanTask | None:
    return session.get(HumanTask, task_id)


def file_number_of(session: Session, task: HumanTask) -> str | None:
    """The number of the file ``task`` is a step of (None for a process without a file)."""
    return session.scalar(select(ApplicationFile.file_number)
                          .where(ApplicationFile.instance_id == task.instance_id).limit(1))


def files_of_tasks(session: Session, tasks: Iterable[HumanTask]) -> list[ApplicationFile]:
    """The files the given steps belong to."""
    instance_ids = {task.instance_id for task in tasks}
    if not instance_ids:
        return []
    return list(session.scalars(select(ApplicationFile).where(ApplicationFile.instance_id.in_(instance_ids))))


def open_tasks(session: Session, lanes: Iterable[str], limit: int = 200) -> list[HumanTask]:
    """Open tasks in ``lanes``, oldest first."""
    return list(session.scalars(
        select(HumanTask).where(open_task(), HumanTask.lane.in_(list(lanes)))
        .order_by(HumanTask.created_at, HumanTask.id).limit(limit)
    ))


# ---------------------------------------------------------------------------
# The worklist
CLAIM_FILTERS = ("mine", "unclaimed")
MAX_PAGE_SIZE = 100
COUNT_CAP = 1000
MAX_HELD = 1000  # claims of one officer read for "mine" (a claim lasts while its task is open)


@dataclass(frozen=True)
class WorklistFilters:
    permit_type: str | None = None  # a process id
    step: str | None = None  # a task name
    overdue: bool = False  # only steps past their due time
    claim: str | None = None  # "mine" (claimed by me) | "unclaimed" | None (all)


@dataclass(frozen=True)
class PageRequest:
    after: str | None = None  # the cursor of the previous page's last row
    size: int = 50


@dataclass
class WorklistRow:
    task: HumanTask
    file_number: str | None
    applicant: str | None
    permit_type: str
    step: str
    age: timedelta
    due_at: datetime | None
    time_left: timedelta | None
    overdue: bool
    sla_state: str | None
    claimed_by: str | None
    claimed_by_name: str | None
    mine: bool
    # Titles of the steps of this file the user did that exclude them from this one.
    not_allowed: list[str]


@dataclass
class WorklistPage:
    rows: list[WorklistRow]
    next_after: str | None  # None on the last page
    count: int  # matching tasks, counted up to COUNT_CAP
    count_capped: bool  # more than COUNT_CAP match


@dataclass(frozen=True)
class WorklistOptions:
    permit_types: list[tuple[str, str]]  # (process id, name)
    steps: list[tuple[str, str]]  # (task name, title)


def worklist_options(session: Session, user: User, lanes_shown: Collection[str] | None = None) -> WorklistOptions:
    """Permit types and steps the user's lanes (or ``lanes_shown``) have, for the worklist's
    filters (definitions are few)."""
    lanes = set(user.lane_names if lanes_shown is None else lanes_shown)
    rows = session.execute(select(ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.user_tasks)
                           .order_by(ProcessDefinition.process_id, ProcessDefinition.version)).all()
    permit_types: dict[str, str] = {}
    steps: dict[str, str] = {}
    for process_id, name, user_tasks in rows:  # later versions overwrite earlier names and titles
        mine = {n: info for n, info in (user_tasks or {}).items() if info.get("lane") in lanes}
        if mine:
            permit_types[process_id] = name
        steps.update({n: str(info.get("title") or n) for n, info in mine.items()})
    return WorklistOptions(sorted(permit_types.items(), key=lambda kv: kv[1]),
                           sorted(steps.items(), key=lambda kv: kv[1]))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# (phase, primary, created_at, id): phase 0 = steps with a due time, by due time;
# phase 1 = steps without one, oldest first. "primary" is due_at in phase 0 and created_at in phase 1.
SortKey = tuple[int, datetime, datetime, int]


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def encode_cursor(key: SortKey) -> str:
    phase, primary, created, task_id = key
    return f"{phase}.{_micros(primary)}.{_micros(created)}.{task_id}"


def decode_cursor(cursor: str | None) -> SortKey | None:
    """The position a cursor stands for; None (the first page) for a missing or malformed one."""
    if not cursor:
        return None
    parts = cursor.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"-?\d{1,20}", p) for p in parts):
        return None
    phase, primary, created, task_id = (int(p) for p in parts)
    if phase not in (0, 1):
        return None
    try:
        return phase, _from_micros(primary), _from_micros(created), task_id
    except OverflowError:
        return None


@dataclass(frozen=True)
class _Found:
    """A task of a worklist page with what its row shows, read in the same query."""

    task: HumanTask
    definition_id: int
    file_number: str | None
    applicant: str | None


def _sort_key(found: _Found) -> SortKey:
    task = found.task
    due = task.due_at
    if due is not None:
        return 0, due, task.created_at, task.id
    return 1, task.created_at, task.created_at, task.id


def _typed(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _conditions(user: User, filters: WorklistFilters, now: datetime) -> list[Any]:
    conditions: list[Any] = [open_task()]
    if filters.step:
        conditions.append(HumanTask.task_name == filters.step)
    if filters.permit_type:
        conditions.append(HumanTask.process_id == filters.permit_type)
    if filters.claim == "mine":
        conditions.append(HumanTask.claimed_by == user.username)
    elif filters.claim == "unclaimed":
        conditions.append(HumanTask.claimed_by.is_(None))
    if filters.overdue:
        conditions.append(HumanTask.due_at < _typed(now))
    return conditions


def _lane_rows(session: Session, conditions: list[Any], after: SortKey | None, limit: int,
               overdue: bool) -> list[_Found]:
    """Up to ``limit`` open tasks matching ``conditions`` in urgency order after the cursor, with their
    instance's definition and their file; the task index gives the order, the rest are key lookups."""
    base = (select(HumanTask, ProcessInstance.definition_id, ApplicationFile.file_number,
                   ApplicationFile.applicant_name)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .outerjoin(ApplicationFile, ApplicationFile.instance_id == HumanTask.instance_id)
            .where(*conditions))
    queries: list[Any] = []  # Select statements of the same columns
    due = HumanTask.due_at
    if after is None:
        queries.append(base.where(due.is_not(None)).order_by(due, HumanTask.created_at, HumanTask.id))
    elif after[0] == 0:
        # "due_at >= the cursor's" starts the index range there (it also excludes NULLs);
        # the row comparison then skips the rows of the same due time already shown.
        with_due = base.where(due >= _typed(after[1]), tuple_(due, HumanTask.created_at, HumanTask.id)
                              > tuple_(_typed(after[1]), _typed(after[2]), literal(after[3])))
        queries.append(with_due.order_by(due, HumanTask.created_at, HumanTask.id))
    if not overdue:
        without_due = base.where(due.is_(None))
        if after is not None and after[0] == 1:
            without_due = without_due.where(
                HumanTask.created_at >= _typed(after[2]),
                tuple_(HumanTask.created_at, HumanTask.id) > tuple_(_typed(after[2]), literal(after[3])))
        # due_at leads the ORDER BY (all NULL here) so that it is the index's own order.
        queries.append(without_due.order_by(due, HumanTask.created_at, HumanTask.id))
    found: list[_Found] = []
    for query in queries:
        if len(found) >= limit:
            break
        found += [_Found(*row) for row in session.execute(query.limit(limit - len(found)))]
    return found


def _held_rows(session: Session, ids: list[int]) -> list[_Found]:
    """The tasks ``ids`` by primary key only (no other condition for a planner to prefer)."""
    query = (select(HumanTask, ProcessInstance.definition_id, ApplicationFile.file_number,
                    ApplicationFile.applicant_name)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .outerjoin(ApplicationFile, ApplicationFile.instance_id == HumanTask.instance_id)
             .where(HumanTask.id.in_(ids)))
    return [_Found(*row) for row in session.execute(query)]


def _matches(found: _Found, user: User, lanes: list[str], filters: WorklistFilters, now: datetime) -> bool:
    """The worklist's conditions (see :func:`_conditions`) for a task already read."""
    task = found.task
    due = task.due_at
    return (task.status == TaskStatus.OPEN and task.lane in lanes and task.claimed_by == user.username
            and (not filters.step or task.task_name == filters.step)
            and (not filters.permit_type or task.process_id == filters.permit_type)
            and (not filters.overdue or (due is not None and due < now)))


def worklist(session: Session, user: User, filters: WorklistFilters, page: PageRequest, *,
             now: datetime, lanes_shown: Collection[str] | None = None) -> WorklistPage:
    """The open tasks of the user's lanes (or of ``lanes_shown``: a manager's read-only view of
    every lane), most urgent first (by due time, then the oldest of those without one), filtered,
    one page at a time (keyset: ``page.after`` is the previous page's ``next_after``)."""
    lanes = sorted(user.lane_names if lanes_shown is None else lanes_shown)
    size = max(1, min(page.size, MAX_PAGE_SIZE))
    after = decode_cursor(page.after)
    if not lanes:
        return WorklistPage([], None, 0, False)
    conditions = _conditions(user, filters, now)
    if filters.claim == "mine":
        # The few tasks one officer holds: found through the claimed_by index first (a query with
        # no other condition a planner could prefer), then read by primary key and ordered here.
        held = list(session.scalars(select(HumanTask.id).where(HumanTask.claimed_by == user.username)
                                    .limit(MAX_HELD)))
        every = sorted((f for f in (_held_rows(session, held) if held else [])
                        if _matches(f, user, lanes, filters, now)), key=_sort_key)
        candidates = [f for f in every if after is None or _sort_key(f) > after][:size + 1]
        counted = len(every)
    else:
        # One index walk per lane, each already in order, merged here.
        per_lane = [_lane_rows(session, [*conditions, HumanTask.lane == lane], after, size + 1, filters.overdue)
                    for lane in lanes]
        candidates = list(heapq.merge(*per_lane, key=_sort_key))[:size + 1]
        counting = select(HumanTask.id).where(*conditions, HumanTask.lane.in_(lanes))
        counted = session.scalar(select(func.count()).select_from(counting.limit(COUNT_CAP + 1).subquery())) or 0
    shown = candidates[:size]
    next_after = encode_cursor(_sort_key(shown[-1])) if len(candidates) > size else None
    return WorklistPage(_describe_rows(session, user, shown, now), next_after, min(counted, COUNT_CAP),
                        counted > COUNT_CAP)


def _describe_rows(session: Session, user: User, page: list[_Found], now: datetime) -> list[WorklistRow]:
    """Permit type, claimant names and segregation for a page of tasks: a few keyed queries,
    never the instances' serialised state."""
    if not page:
        return []
    definitions = {row.id: row for row in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.name, ProcessDefinition.user_tasks)
        .where(ProcessDefinition.id.in_({f.definition_id for f in page})))}
    holders = {f.task.claimed_by for f in page if f.task.claimed_by}
    names = {row[0]: row[1] for row in session.execute(
        select(User.username, User.full_name).where(User.username.in_(holders)))} if holders else {}

    # Segregation of duties: which of these steps exclude this user, in one query.
    excluding: dict[int, list[str]] = {}
    for f in page:
        definition = definitions.get(f.definition_id)
        excluding[f.task.id] = separated_steps(definition.user_tasks or {}, f.task.task_name) if definition else []
    done: set[tuple[int, str]] = set()
    wanted = {name for steps in excluding.values() for name in steps}
    if wanted:
        done = {(row[0], row[1]) for row in session.execute(select(HumanTask.instance_id, HumanTask.task_name).where(
            HumanTask.instance_id.in_({f.task.instance_id for f in page if excluding[f.task.id]}),
            HumanTask.status == TaskStatus.COMPLETED, HumanTask.completed_by == user.username,
            HumanTask.task_name.in_(wanted)))}

    rows = []
    for f in page:
        t = f.task
        definition = definitions.get(f.definition_id)
        user_tasks = (definition.user_tasks if definition else None) or {}
        due = t.due_at
        rows.append(WorklistRow(
            task=t, file_number=f.file_number, applicant=f.applicant,
            permit_type=definition.name if definition else "", step=t.title, age=now - t.created_at, due_at=due,
            time_left=(due - now) if due is not None else None, overdue=due is not None and due < now,
            sla_state=t.sla_state, claimed_by=t.claimed_by,
            claimed_by_name=names.get(t.claimed_by or "", t.claimed_by), mine=t.claimed_by == user.username,
            not_allowed=[step_title(user_tasks, n) for n in excluding[t.id] if (t.instance_id, n) in done],
        ))
    return rows


# ---------------------------------------------------------------------------
# The task page
@dataclass
class HistoryEntry:
    at: datetime
    kind: str
    step: str | None
    actor: str
    actor_name: str
    form: str | None  # the form of the completed step, to label its data
    data: dict[str, Any]


@dataclass
class TaskDetails:
    task: HumanTask
    file_number: str | None
    applicant: str | None
    permit_type: str
    claimed_by_name: str | None
    not_allowed: list[str]
    history: list[HistoryEntry]


def task_details(session: Session, task: HumanTask, user: User) -> TaskDetails:
    """What the task page shows besides the form: the file, who holds the task, and the file's history."""
    instance = task.instance
    user_tasks = instance.definition.user_tasks or {}
    file = session.execute(select(ApplicationFile.file_number, ApplicationFile.applicant_name)
                           .where(ApplicationFile.instance_id == instance.id).limit(1)).first()
    events = list(session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                  .order_by(InstanceEvent.at, InstanceEvent.id)))
    actors = {e.actor for e in events} | ({task.claimed_by} if task.claimed_by else set())
    names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(actors)))
                 .all()) if actors else {}
    history = []
    for event in events:
        info = user_tasks.get(event.task_name or "") or {}
        detail = event.detail or {}
        data = detail.get("data") if event.kind == "task_completed" else None
        history.append(HistoryEntry(
            at=event.at, kind=event.kind, step=(info.get("title") or event.task_name) if event.task_name else None,
            actor=event.actor, actor_name=names.get(event.actor, event.actor), form=info.get("form"),
            data=data if isinstance(data, dict) else {}))
    conflicts = separation_conflicts(session, task, user) if task.status == TaskStatus.OPEN else []
    return TaskDetails(task=task, file_number=file.file_number if file else None,
                       applicant=file.applicant_name if file else None, permit_type=instance.definition.name,
                       claimed_by_name=names.get(task.claimed_by, task.claimed_by) if task.claimed_by else None,
                       not_allowed=conflicts, history=history)

