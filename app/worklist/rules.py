"""Who may work on a human task.

- only members of its lane see it, claim it or complete it (:class:`NotYourLane`);
- a claimed task is completed only by its claimant (:class:`ClaimedByOther`); an
  unclaimed one by any member of its lane, who holds it from that moment;
- a step whose diagram property ``separateFrom`` names other steps (comma-separated
  task names) may not be done by someone who completed one of those steps of the
  same file (:class:`DutiesSeparated`: segregation of duties);
- a claim is released by its claimant, a member of the head lane or a manager
  (:func:`may_release_any`, :class:`ReleaseRefused`).

The write path that applies these rules is in completion.py.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from app.auth.models import User
from app.engine.errors import NotFound, TaskAlreadyDone
from app.engine.models import HumanTask, TaskStatus
from app.errors import Conflict, Forbidden

# The lane whose members supervise: they may release anyone's claim (as may managers).
SUPERVISOR_LANE = "head"
SEPARATE_FROM = "separateFrom"


class NotYourLane(Forbidden):
    """The task belongs to a lane the user is not a member of."""


class ClaimedByOther(Conflict):
    """Another officer holds (has claimed) the task."""

    def __init__(self, task: HumanTask, holder: str) -> None:
        self.holder = holder
        super().__init__(f"task {task.title!r} is claimed by {holder!r}; only they can complete it or release it")


class DutiesSeparated(Forbidden):
    """Segregation of duties: the user did a step of this file that excludes this one."""

    def __init__(self, task: HumanTask, done_titles: list[str]) -> None:
        self.done_titles = done_titles
        super().__init__(f"you completed {', '.join(done_titles)} of this file, so {task.title!r} "
                         "must be done by someone else (segregation of duties)")


class NotClaimed(Conflict):
    """Releasing a task nobody holds."""


class ReleaseRefused(Forbidden):
    """Only the claimant, a member of the head lane or a manager may release a claim."""


# Built once (every completion runs it): the task row locked and read afresh, with its instance.
_TASK_FOR_UPDATE = (select(HumanTask).where(HumanTask.id == bindparam("task_id"))
                    .options(joinedload(HumanTask.instance)).with_for_update(of=HumanTask)
                    .execution_options(populate_existing=True))


def get_task_for(session: Session, task_id: int, user: User, *, for_update: bool = False) -> HumanTask:
    """A task the user may see: one of their lanes. ``for_update``: locked until the transaction
    ends and read as the latest committed version (a competing completion is waited for, then seen)."""
    # The instance (and its definition) come in the same query: completing needs them.
    if for_update:
        task = session.scalars(_TASK_FOR_UPDATE, {"task_id": task_id}).first()
    else:
        task = session.get(HumanTask, task_id, options=[joinedload(HumanTask.instance)])
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.lane not in user.lane_names:
        raise NotYourLane(f"task {task_id} belongs to lane {task.lane!r}, which {user.username!r} is not a member of")
    return task


# ---------------------------------------------------------------------------
# Segregation of duties
def separated_steps(user_tasks: dict[str, Any], task_name: str) -> list[str]:
    """The steps (task names) whose doer may not do ``task_name``, from its ``separateFrom`` property."""
    props = (user_tasks.get(task_name) or {}).get("properties") or {}
    return [name.strip() for name in str(props.get(SEPARATE_FROM) or "").split(",") if name.strip()]


def step_title(user_tasks: dict[str, Any], task_name: str) -> str:
    return str((user_tasks.get(task_name) or {}).get("title") or task_name)


def separation_conflicts(session: Session, task: HumanTask, user: User) -> list[str]:
    """Titles of the steps of this file the user completed that exclude them from ``task`` (empty: allowed)."""
    user_tasks = task.instance.definition.user_tasks or {}
    names = separated_steps(user_tasks, task.task_name)
    if not names:
        return []
    done = session.scalars(select(HumanTask.task_name).where(
        HumanTask.instance_id == task.instance_id, HumanTask.status == TaskStatus.COMPLETED,
        HumanTask.completed_by == user.username, HumanTask.task_name.in_(names)).distinct())
    return [step_title(user_tasks, name) for name in sorted(set(done), key=names.index)]


def ensure_may_work_on(session: Session, task: HumanTask, user: User) -> None:
    """Raise why ``user`` may not complete ``task`` now (lane already checked): done, held by another,
    or excluded by segregation of duties."""
    if task.status != TaskStatus.OPEN:
        raise TaskAlreadyDone(done_message(task))
    if task.claimed_by is not None and task.claimed_by != user.username:
        raise ClaimedByOther(task, task.claimed_by)
    conflicts = separation_conflicts(session, task, user)
    if conflicts:
        raise DutiesSeparated(task, conflicts)


def done_message(task: HumanTask) -> str:
    if task.status == TaskStatus.COMPLETED:
        return f"task {task.title!r} was already completed by {task.completed_by!r}"
    return f"task {task.title!r} was already {task.status}"


def may_release_any(user: User) -> bool:
    """Supervisors release claims of others: members of the head lane and managers."""
    return SUPERVISOR_LANE in user.lane_names or user.has_role("manager")

