"""The SpiffWorkflow script engine over the sandbox, and :func:`make_script_engine`."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine.sandbox.budgets import SandboxLimits
from app.engine.sandbox.environment import SandboxEnvironment, script_lineno
from app.engine.sandbox.policy import ScriptRejected
from app.engine.sandbox.pool import PooledEnvironment, shared_pool


def _describe(err: BaseException) -> str:
    if isinstance(err, ScriptRejected):
        return str(err)
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class SandboxScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow ships no types
    """PythonScriptEngine over :class:`SandboxEnvironment` whose errors keep the reason
    and the script line."""

    environment: SandboxEnvironment

    def __init__(self, environment: SandboxEnvironment) -> None:
        super().__init__(environment=environment)

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as se:
            se.add_note(f"Error evaluating expression '{expression}'")
            raise se
        except Exception as err:
            line_number, _ = self.get_error_line_number_and_content(expression, err)
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {_describe(err)}",
                task=task,
                exception=err,
                line_number=line_number or None,
            ) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(_describe(err), task=task, exception=err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        if isinstance(err, SpiffWorkflowException):
            err.line_number = line_number
            err.error_line = error_line
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            return cast(Exception, err)  # narrowed to SpiffWorkflow's untyped class, still the Exception passed in
        wrapped: Exception = WorkflowTaskException(
            _describe(err), task=task, exception=err, line_number=line_number, error_line=error_line
        )
        return wrapped

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        line_number = 0
        if isinstance(err, (ScriptRejected, SyntaxError)) and err.lineno:
            line_number = err.lineno
        else:
            line_number = getattr(err, "script_lineno", None) or script_lineno(err.__traceback__) or 0
        lines = script.splitlines() if isinstance(script, str) else []
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line


Isolation = Literal["process", "inline"]


def make_script_engine(
    helpers: Mapping[str, Callable[..., Any]] | None = None,
    limits: SandboxLimits | None = None,
    *,
    isolation: Isolation = "process",
    processes: int = 2,
    memory_mb: int = 512,
    inline: bool = True,
) -> SandboxScriptEngine:
    """The script engine to assign to every workflow (again after every deserialise).

    ``helpers`` are extra named functions for scripts (the container passes the date and
    working-day helpers, see app/sla/script_helpers.py). With ``isolation="process"`` (the
    default) scripts run in the shared pool of ``processes`` script processes, each capped at
    ``memory_mb`` MB, killed past ``limits.max_seconds``; ``"inline"`` runs them in this
    process, where a long C-level call cannot be stopped (tests of the rules, benchmarks).
    With ``"process"`` and ``inline`` (the default), a straight-line script or condition (no
    loops, no calls: bounded work, see straight_line.py) runs in this process under the same
    rules and with the same result, without the script process's round trip.
    """
    environment: SandboxEnvironment
    if isolation == "inline":
        environment = SandboxEnvironment(helpers=helpers, limits=limits)
    elif isolation == "process":
        pool = shared_pool(processes, memory_mb)
        pool.warm()  # start the script processes now, in the background
        environment = PooledEnvironment(pool, helpers=helpers, limits=limits, inline=inline)
    else:
        raise ValueError(f"unknown script isolation {isolation!r}")
    return SandboxScriptEngine(environment)
