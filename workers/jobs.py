"""Celery's task decorator, typed: Celery ships no types, so ``@shared_task`` would turn every
task into ``Any``. :func:`job` and :func:`bound_job` keep each task's own signature (what its
body takes and returns) for mypy; at run time they are exactly ``shared_task``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from celery import shared_task

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class Job(Protocol[P, R]):
    """What a registered task offers the code that holds it (callers enqueue by name through
    app/publisher.py; calling the task runs its body in place)."""

    name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...


class TaskRequest(Protocol):
    """The part of Celery's request context the bound tasks read."""

    eta: object  # a datetime or its ISO text, None when sent without one
    hostname: str | None


class BoundTask(Protocol):
    """``self`` of a task declared with ``bind=True``."""

    request: TaskRequest


def job(name: str, **options: Any) -> Callable[[Callable[P, R]], Job[P, R]]:
    """``@shared_task(name=..., **options)`` that keeps the task's signature."""
    return cast(Callable[[Callable[P, R]], Job[P, R]], shared_task(name=name, **options))


def bound_job(name: str, **options: Any) -> Callable[[Callable[Concatenate[BoundTask, P], R]], Job[P, R]]:
    """``@shared_task(name=..., bind=True, **options)``: the body's first argument is the task
    itself (its request); callers pass the rest."""
    return cast(Callable[[Callable[Concatenate[BoundTask, P], R]], Job[P, R]],
                shared_task(name=name, bind=True, **options))
