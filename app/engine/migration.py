"""Moving a running workflow to another version of its process.

State is serialised without the spec (see spiff.py), so a workflow can be loaded
with its own version and re-pointed at another one. Tasks are matched by name
(the BPMN id): a renamed step is a different step. A workflow can move when

* every step it has passed (completed or cancelled) still exists in the target,
* every current step (ready, waiting, started) exists there, is of the same kind,
  and has the same boundary events (their tokens live beside the step);

then the predicted part of its task tree (what has not happened yet) is dropped
and predicted again from the target, so added, removed and renamed future steps
simply take effect. A dry run is the same move done on a copy that is thrown away.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState

from app.engine.spiff import BpmnWorkflow

_CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_FRONTIER = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class MigrationIssue:
    """Why an instance cannot move. ``kind`` is stable (interfaces translate by it);
    ``message`` is English, for logs and the command line."""

    kind: str  # not_running | same_version | other_process | current_missing | current_kind_changed |
    #            boundary_changed | completed_missing | cancelled_missing | subprocess_missing | planned_missing
    step: str = ""  # the task spec name (BPMN id) concerned, if any
    title: str = ""  # the step's name in the diagram
    message: str = ""


def _title(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _kind(spec: Any) -> str:
    return type(spec).__name__


def move_workflow(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any],
                  to_version: int) -> list[MigrationIssue]:
    """Re-point ``workflow`` (in place) at ``spec`` / ``subprocess_specs``.

    Returns the reasons it cannot move; when there are any, the workflow may be
    half-changed and must be thrown away (callers work on a freshly loaded copy).
    """
    issues: list[MigrationIssue] = []
    pairs: list[tuple[Any, Any]] = [(workflow, spec)]
    for sub in workflow.subprocesses.values():
        target = subprocess_specs.get(sub.spec.name)
        if target is None:
            issues.append(MigrationIssue(
                "subprocess_missing", sub.spec.name, _title(sub.spec),
                f"running sub-process {sub.spec.name!r} does not exist in version {to_version}"))
        else:
            pairs.append((sub, target))

    for wf, target in pairs:
        for task in wf.tasks.values():
            name = task.task_spec.name
            new = target.task_specs.get(name)
            title = _title(task.task_spec)
            if task.has_state(_CURRENT):
                if new is None:
                    issues.append(MigrationIssue(
                        "current_missing", name, title,
                        f"step {title!r} ({name}, current) does not exist in version {to_version}"))
                elif _kind(new) != _kind(task.task_spec):
                    issues.append(MigrationIssue(
                        "current_kind_changed", name, title,
                        f"step {title!r} ({name}, current) is a {_kind(task.task_spec)} here but a {_kind(new)} "
                        f"in version {to_version}"))
                elif (f"{name}.BoundaryEventSplit" in wf.spec.task_specs) != (
                        f"{name}.BoundaryEventSplit" in target.task_specs):
                    issues.append(MigrationIssue(
                        "boundary_changed", name, title,
                        f"step {title!r} ({name}, current) has different boundary events in version {to_version}"))
            elif new is None and task.has_state(TaskState.COMPLETED):
                issues.append(MigrationIssue(
                    "completed_missing", name, title,
                    f"completed step {title!r} ({name}) is no longer in the diagram of version {to_version}"))
            elif new is None and task.has_state(TaskState.CANCELLED):
                issues.append(MigrationIssue(
                    "cancelled_missing", name, title,
                    f"cancelled step {title!r} ({name}) is no longer in the diagram of version {to_version}"))
    if issues:
        return _unique(issues)

    for wf, target in pairs:
        for task in wf.tasks.values():
            new = target.task_specs.get(task.task_spec.name)
            if new is not None:
                task.task_spec = new
        wf.spec = target
    workflow.subprocess_specs = subprocess_specs

    # What has not happened yet is predicted again from the target version.
    for wf, _target in pairs:
        for task in [t for t in wf.tasks.values() if t.has_state(_FRONTIER)]:
            if task.id not in wf.tasks:
                continue
            task._drop_children()
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)

    for wf, target in pairs:
        for task in wf.tasks.values():
            if target.task_specs.get(task.task_spec.name) is not task.task_spec:
                title = _title(task.task_spec)
                issues.append(MigrationIssue(
                    "planned_missing", task.task_spec.name, title,
                    f"planned step {title!r} ({task.task_spec.name}) does not exist in version {to_version}"))
    return _unique(issues)


def _unique(issues: list[MigrationIssue]) -> list[MigrationIssue]:
    seen: set[tuple[str, str]] = set()
    result = []
    for issue in issues:
        if (issue.kind, issue.step) not in seen:
            seen.add((issue.kind, issue.step))
            result.append(issue)
    return result
