"""The in-process environment: runs one script or expression under RestrictedPython with
the guards, the helpers and the budgets, with ``TaskDataEnvironment``'s data semantics.

It runs inside a script process of the pool (app/engine/sandbox/pool.py) in production;
called directly it runs in the caller's process (``isolation="inline"``: tests, benchmarks).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import CodeType, TracebackType
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.engine.sandbox.budgets import DEFAULT_LIMITS, Run, SandboxLimits, current_run
from app.engine.sandbox.data import DataCheck
from app.engine.sandbox.guards import GUARDS
from app.engine.sandbox.helpers import FORBIDDEN_NAMES, Forbidden, builtin_helpers
from app.engine.sandbox.policy import SCRIPT_FILENAME, ScriptRejected, compiled


def script_lineno(tb: TracebackType | None) -> int | None:
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


class SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]  # SpiffWorkflow ships no types
    """Runs diagram scripts and expressions under RestrictedPython with budgets.

    Same data semantics as SpiffWorkflow's ``TaskDataEnvironment`` (see module doc).
    """

    def __init__(
        self,
        helpers: Mapping[str, Callable[..., Any]] | None = None,
        limits: SandboxLimits | None = None,
    ) -> None:
        """``helpers``: extra named functions for scripts (the date and working-day helpers
        are injected this way by the container, see app/sla/script_helpers.py)."""
        super().__init__({})
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.host_helpers: dict[str, Callable[..., Any]] = dict(helpers or {})
        self.helpers: dict[str, Any] = {**builtin_helpers(), **self.host_helpers}
        builtins: dict[str, Any] = {name: Forbidden(name) for name in FORBIDDEN_NAMES}
        builtins.update(self.helpers)
        builtins.update(GUARDS)
        self._builtins = builtins

    # -- SpiffWorkflow interface ---------------------------------------------------------

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = compiled(expression, "eval")
        scope: dict[str, Any] = {}
        scope.update(external_context or {})
        scope.update(context)
        scope.update(GUARDS)
        scope["__builtins__"] = self._builtins
        result = self._run(code, scope, "eval")
        return DataCheck(self.limits, convert_dates=False).value(result, "the expression's result", 0)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = compiled(script, "exec")
        before = set(context)
        saved = {name: context[name] for name in GUARDS if name in context}
        context.update(external_context)
        context.update(GUARDS)
        context["__builtins__"] = self._builtins
        try:
            self._run(code, context, "exec")
        finally:
            self._clean_context(context, external_context, before, saved)
        check = DataCheck(self.limits, convert_dates=True)
        for key in list(context):
            item = context[key]
            new = check.value(item, str(key), 0)
            if new is not item:
                context[key] = new
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRejected("service tasks are not supported by the diagram sandbox.")

    def check_for_overwrite(self, context: dict[str, Any], external_context: dict[str, Any]) -> None:
        clash = set(external_context).intersection(context)
        if clash:
            raise ValueError(
                "You have task data that overwrites a predefined name. Please change the following "
                f"variable or field name(s) to something else: {sorted(clash)}"
            )

    # -- internals ----------------------------------------------------------------------

    def _clean_context(
        self,
        context: dict[str, Any],
        external_context: dict[str, Any],
        before: set[str],
        saved: dict[str, Any],
    ) -> None:
        context.pop("__builtins__", None)
        for name in GUARDS:
            context.pop(name, None)
        context.update(saved)
        for key in list(context):
            value = context[key]
            if (
                key in external_context
                or callable(value)
                or (isinstance(key, str) and key.startswith("_") and key != "_" and key not in before)
            ):
                del context[key]

    def _run(self, code: CodeType, scope: dict[str, Any], mode: str) -> Any:
        run = Run(self.limits)
        step = run.step
        previous = sys.gettrace()

        def local_trace(frame: Any, event: Any, arg: Any) -> Any:
            if event == "line":
                step(frame.f_lineno)
            return local_trace

        def global_trace(frame: Any, event: Any, arg: Any) -> Any:
            if frame.f_code.co_filename == SCRIPT_FILENAME:
                return local_trace
            if previous is None:
                return None
            # Chain other frames (helpers) to the previous tracer, e.g. coverage.
            # Coverage's C tracer re-installs itself on "call" events: take the
            # global slot back so later script frames are still counted.
            result = previous(frame, event, arg)
            if sys.gettrace() is not global_trace:
                sys.settrace(global_trace)
            return result

        token = current_run.set(run)
        sys.settrace(global_trace)
        try:
            if mode == "exec":
                exec(code, scope)  # noqa: S102 - restricted code, guarded globals
                return None
            return eval(code, scope)  # noqa: S307 - restricted code, guarded globals
        except ScriptRejected as err:
            err.set_line(script_lineno(err.__traceback__))
            raise
        except RecursionError as err:
            raise ScriptRejected("the script recursed too deeply.", script_lineno(err.__traceback__)) from None
        except MemoryError as err:
            raise ScriptRejected("the script ran out of memory.", script_lineno(err.__traceback__)) from None
        finally:
            sys.settrace(previous)
            current_run.reset(token)


