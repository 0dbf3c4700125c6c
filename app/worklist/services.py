"""Human tasks: who may see them, their forms, and completing them."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.auth.models import User
from app.engine.errors import EngineError, NotFound
from app.engine.models import HumanTask
from app.engine.runtime import Runtime
from app.worklist.forms import FieldError, FormRegistry


class NotYourLane(EngineError):
    """The task belongs to a lane the user is not a member of."""


class FormInvalid(EngineError):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or '(form)'}: {e.message}" for e in errors))


def open_tasks(session: Session, lanes: Iterable[str], limit: int = 200) -> list[HumanTask]:
    """Open tasks in ``lanes``, oldest first."""
    return list(session.scalars(
        select(HumanTask).where(HumanTask.status == "open", HumanTask.lane.in_(list(lanes)))
        .order_by(HumanTask.created_at, HumanTask.id).limit(limit)
    ))


def get_task_for(session: Session, task_id: int, user: User) -> HumanTask:
    """A task the user may see: one of their lanes."""
    # The instance (and its definition) come in the same query: completing needs them.
    task = session.get(HumanTask, task_id, options=[joinedload(HumanTask.instance)])
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.lane not in user.lane_names:
        raise NotYourLane(f"task {task_id} belongs to lane {task.lane!r}, which {user.username!r} is not a member of")
    return task


def complete_task(session: Session, runtime: Runtime, forms: FormRegistry, task_id: int, data: Any,
                  user: User) -> HumanTask:
    """Validate ``data`` against the task's form and complete it.

    Raises NotYourLane, FormInvalid (with every field error), TaskAlreadyDone,
    TaskNotReady or ConcurrentUpdate; in each case nothing is changed.
    """
    task = get_task_for(session, task_id, user)
    if not isinstance(data, dict):
        raise FormInvalid([FieldError("", "data must be a JSON object")])
    errors = forms.validate(task.form, data) if task.form else (
        [FieldError("", "this step has no form; send an empty object")] if data else [])
    if errors:
        raise FormInvalid(errors)
    runtime.complete(session, task, _plain(data), user.username)
    return task


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in data.items()}
