"""Restricted execution of diagram scripts and expressions.

Scripts, conditions, timer expressions and DMN expressions in a BPMN diagram are
UNTRUSTED input. SpiffWorkflow's default engine runs them with plain ``exec``/``eval``
(they can import ``os`` and read ``/etc/passwd``). This module runs them through
RestrictedPython instead, with a small set of named helpers and guards, a step
budget and size limits. :func:`make_script_engine` builds the engine the app must
assign to every workflow, including after every deserialise (the serialiser does
not keep the script engine).

Public API
----------
* :class:`ScriptRejected` -- a script broke a rule; the message says which, and
  on which line when known.
* :func:`check_source` -- compile-time check for diagram validation before deploy.
* :class:`SandboxEnvironment` -- a SpiffWorkflow script environment with the same
  data semantics as ``TaskDataEnvironment``.
* :class:`SandboxScriptEngine` / :func:`make_script_engine` -- the engine.
* :class:`SandboxLimits` -- the budgets (defaults are meant for production).

Names a script can use (nothing else is available)
--------------------------------------------------
Task-data variables are read and assigned by name, as with SpiffWorkflow's default
engine. A task-data variable with the same name as a helper hides the helper.

Numbers:
  ``round_down(x, step=1)``     floor of ``x`` to a multiple of ``step`` (> 0), computed
                                in Decimal (``round_down(0.3, 0.1) == 0.3``); returns an
                                int when ``step`` is an int (``round_down(12345.6, 100)
                                == 12300``), else a float. Negative values go down
                                (``round_down(-1.5) == -2``).
  ``round_half_up(x, ndigits=0)`` Decimal rounding with halves away from zero
                                (``round_half_up(2.5) == 3``, ``round_half_up(1.005, 2)
                                == 1.01``); an int when ``ndigits <= 0``, else a float.
  ``floor(x)``, ``ceil(x)``     ``math.floor``/``math.ceil`` (ints).
  ``round(x, ndigits=None)``    Python's banker's rounding (``|ndigits| <= 100``).
  ``min``, ``max``, ``sum`` (numbers only), ``abs``, ``len``, ``int``, ``float``,
  ``str``, ``bool``, ``sorted``, ``list``, ``dict``, ``enumerate``, ``zip``, ``any``,
  ``all``: the builtins, with size checks.
  ``range(...)``                at most ``SandboxLimits.max_range`` items.
Dates (the office calendar is a :class:`~app.sla.calendar.WorkingCalendar`, the
clock an injected :class:`~app.clock.Clock`):
  ``today()``                   office-local date (``date``) of the clock's now.
  ``now()``                     aware UTC ``datetime`` from the clock.
  ``parse_date(value)``         ``date`` from ``"2026-01-31"``, an ISO datetime string
                                (aware: office-local date), a ``date`` or ``datetime``.
  ``add_days(value, n)``        ISO date string ``n`` calendar days after ``value``.
  ``add_working_days(value, n)`` ISO date string: the n-th working day after
                                ``value`` (``n >= 0``; ``n == 0`` gives ``value`` if it
                                is a working day, else the next working day).
  ``working_days_between(a, b)`` working days in ``(a, b]`` (negative if ``b < a``).
  ``iso_days(n)``               ISO 8601 duration ``"P{n}D"`` for timer expressions
                                (``n >= 0``).
  ``working_days_from_now(n)``  aware ISO datetime (office-local offset) of the close of
                                office hours on the n-th working day after today, for
                                ``timeDate`` timers (``n >= 0``; see app/sla/hours.py).
Methods of plain values work: ``d.get("k", 0)``, ``s.upper()``, ``xs.append(1)``,
``day.isoformat()``, ``day.year`` ... on str, int, float, bool, list, dict, tuple,
set, date, datetime, time and timedelta values. ``print`` is accepted and does nothing.

Rules (each breach raises :class:`ScriptRejected` or, for plain Python errors such
as a missing variable, the usual exception)
------------------------------------------------------------------------------------
* No imports, no names or attributes starting with ``_``, no ``try``/``with``/
  ``class`` statements (so the budget error cannot be caught), no ``exec``/``eval``.
* ``open``, ``exec``, ``eval``, ``compile``, ``globals``, ``locals``, ``vars``,
  ``dir``, ``getattr``, ``setattr``, ``type``, ``object`` and similar are refused
  by name when called.
* Attribute access only on the plain value types above; never on functions,
  modules, types or other objects. ``str.format``/``format_map``/``translate`` and
  ``int.to_bytes`` are refused; use f-strings. f-string format specs must be
  literal and widths at most 10 000.
* Only dicts and lists can be changed (item assignment, ``del``); attributes of
  nothing can be assigned. ``x[i] += 1`` is refused by RestrictedPython: write
  ``x[i] = x[i] + 1``.
* Budgets per run: ``max_lines`` executed lines (an endless loop stops there),
  ``max_seconds`` wall time, ``max_size`` items/characters for one value built by
  ``*``, ``+``, ``%``, f-strings and string methods, ``max_alloc`` items/characters
  built in total, ``max_int_bits`` for ``*``, ``**`` and ``<<`` on ints, and
  ``max_memory_mb`` growth of the process's resident memory (checked every 128
  lines, a backstop for allocations the guards do not see).

Data semantics
--------------
As ``TaskDataEnvironment``: a script runs with the task data as its globals, so
it reads and assigns variables there; afterwards ``__builtins__``, guards,
external context (e.g. data objects) and every callable are removed from the data.
In addition, after a script: ``date``/``datetime``/``time`` values anywhere in the
task data become ISO 8601 strings, and any value that cannot be stored as JSON
(a range, a generator, a timedelta, bytes, a self-referencing list, ...) makes the
script fail with a message naming the variable. Expressions (``evaluate``) must
return plain data too (dates allowed there, not converted).
"""
from __future__ import annotations

import ast
import contextvars
import functools
import math
import operator
import os
import re
import sys
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from types import CodeType, TracebackType
from typing import Any, Literal, cast

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.clock import SYSTEM_CLOCK, Clock
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours, deadline_after

# The office calendar, or a function returning it as it is now (administrators change it).
CalendarSource = WorkingCalendar | Callable[[], WorkingCalendar]

__all__ = [
    "SCRIPT_FILENAME",
    "SandboxEnvironment",
    "SandboxLimits",
    "SandboxScriptEngine",
    "ScriptRejected",
    "check_source",
    "make_script_engine",
]

SCRIPT_FILENAME = "<diagram script>"
MAX_SOURCE_CHARS = 50_000
MAX_FORMAT_WIDTH = 10_000


class ScriptRejected(Exception):
    """A diagram script or expression broke a sandbox rule or exceeded a budget."""

    def __init__(self, reason: str, lineno: int | None = None) -> None:
        self.reason = reason
        self.lineno = lineno
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" (line {self.lineno})" if self.lineno else ""
        return f"Script rejected{where}: {self.reason.rstrip('. ')}"

    def set_line(self, lineno: int | None) -> None:
        if lineno and not self.lineno:
            self.lineno = lineno
            self.args = (self._text(),)


@dataclass(frozen=True)
class SandboxLimits:
    """Budgets of one script or expression run."""

    max_lines: int = 100_000
    max_seconds: float = 2.0
    max_range: int = 100_000
    max_size: int = 1_000_000
    max_alloc: int = 5_000_000
    max_int_bits: int = 8_192
    max_memory_mb: int = 256
    max_data_nodes: int = 500_000
    max_data_depth: int = 64


DEFAULT_LIMITS = SandboxLimits()


# ---------------------------------------------------------------------------
# Compile: RestrictedPython's policy, tightened.

_GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _call(name: str, args: list[ast.expr], like: ast.expr | ast.stmt) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    copy_locations(node.func, like)
    return node


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's transformer plus: no imports, try, with, class; guarded
    ``+ * ** << %``; checked f-strings; charged ``*x``/``**d`` unpacking."""

    def visit_Import(self, node: ast.Import) -> Any:  # noqa: N802
        self.error(node, "import statements are not allowed in diagram scripts.")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:  # noqa: N802
        self.error(node, "import statements are not allowed in diagram scripts.")
        return node

    def visit_Try(self, node: ast.Try) -> Any:  # noqa: N802
        self.error(node, "try/except/finally is not allowed in diagram scripts.")
        return node

    def visit_TryStar(self, node: ast.AST) -> Any:  # noqa: N802
        self.error(node, "try/except* is not allowed in diagram scripts.")
        return node

    def visit_With(self, node: ast.With) -> Any:  # noqa: N802
        self.error(node, "with statements are not allowed in diagram scripts.")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:  # noqa: N802
        self.error(node, "class definitions are not allowed in diagram scripts.")
        return node

    def visit_While(self, node: ast.While) -> Any:  # noqa: N802
        return self._tick_loop(cast(ast.While, super().visit_While(node)))

    def visit_For(self, node: ast.For) -> Any:  # noqa: N802
        return self._tick_loop(cast(ast.For, super().visit_For(node)))

    def _tick_loop(self, node: ast.While | ast.For) -> ast.While | ast.For:
        # In 3.11 ``while True: pass`` is a jump to itself that emits no line
        # events; a call at the top of every loop body keeps the budget counting.
        tick = ast.Expr(_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:  # noqa: N802
        node = self.node_contents_visit(node)
        name = _GUARDED_BINOPS.get(type(node.op))
        if name is None:
            return node
        return _call(name, [node.left, node.right], node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:  # noqa: N802
        node = self.node_contents_visit(node)
        return _call("_fstr_", [node], node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:  # noqa: N802
        node.value = self.visit(node.value)
        spec = node.format_spec
        if spec is not None:
            for part in getattr(spec, "values", []):
                if not isinstance(part, ast.Constant):
                    self.error(node, "format specs in f-strings must be literal (no nested {...}).")
                    break
                if any(int(n) > MAX_FORMAT_WIDTH for n in re.findall(r"\d+", str(part.value))):
                    self.error(node, f"f-string widths and precisions above {MAX_FORMAT_WIDTH} are not allowed.")
                    break
        node.value = _call("_fmtval_", [node.value], node.value)
        return node

    def visit_Starred(self, node: ast.Starred) -> Any:  # noqa: N802
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_charge_len_", [node.value], node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> Any:  # noqa: N802
        node = self.node_contents_visit(node)
        node.values = [
            _call("_charge_len_", [value], value) if key is None else value
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        return node


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    if not isinstance(source, str):
        return None, (f"a script must be text, not {type(source).__name__}",)
    if len(source) > MAX_SOURCE_CHARS:
        return None, (f"the script is longer than {MAX_SOURCE_CHARS} characters",)
    if mode == "eval":
        # like eval() on a string: conditions in BPMN XML often carry whitespace
        source = source.strip()
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    try:
        result = compiler(source, filename=SCRIPT_FILENAME, policy=SandboxPolicy)
    except (RecursionError, MemoryError):
        return None, ("the script is nested too deeply",)
    except (SyntaxError, ValueError, TypeError) as err:
        return None, (f"{type(err).__name__}: {err}",)
    if result.errors or result.code is None:
        return None, tuple(result.errors) or ("the script could not be compiled",)
    return result.code, ()


def check_source(source: str, mode: Literal["exec", "eval"]) -> list[str]:
    """Compile ``source`` as a restricted script (``"exec"``) or expression
    (``"eval"``); return the error messages, an empty list when it is acceptable."""
    if mode not in ("exec", "eval"):
        raise ValueError("mode must be 'exec' or 'eval'")
    return list(_compile(source, mode)[1])


_LINE_PREFIX = re.compile(r"^Line (\d+|None): ")


def _compiled(source: str, mode: str) -> CodeType:
    code, errors = _compile(source, mode)
    if code is not None:
        return code
    first_line: int | None = None
    reasons: list[str] = []
    for error in errors:
        match = _LINE_PREFIX.match(error)
        text = error[match.end():] if match else error
        line = int(match.group(1)) if match and match.group(1).isdigit() else None
        if first_line is None and line is not None:
            first_line = line
        elif line is not None and line != first_line:
            text = f"line {line}: {text}"
        reasons.append(text.rstrip(". "))
    raise ScriptRejected("; ".join(reasons) or "the script could not be compiled", first_line)


# ---------------------------------------------------------------------------
# Run state (per thread / context): budgets read by guards and the tracer.


class _Run:
    __slots__ = ("alloc", "deadline", "limits", "lines", "rss_start")

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.lines = 0
        self.alloc = 0
        self.deadline = _time.monotonic() + limits.max_seconds
        self.rss_start: int | None = None

    def step(self, lineno: int | None = None) -> None:
        self.lines += 1
        if self.lines > self.limits.max_lines:
            raise ScriptRejected(
                f"the script ran more than {self.limits.max_lines:,} lines (an endless loop?).", lineno
            )
        if not self.lines & 127:
            self.check_resources()

    def check_resources(self) -> None:
        if _time.monotonic() > self.deadline:
            raise ScriptRejected(f"the script ran longer than {self.limits.max_seconds:g} s.")
        rss = _rss_bytes()
        if self.rss_start is None:
            self.rss_start = rss
        elif rss - self.rss_start > self.limits.max_memory_mb * 2**20:
            raise ScriptRejected(f"the script used more than {self.limits.max_memory_mb} MB of memory.")


def _guard_tick() -> None:
    """Called at the top of every loop body: counts like a line."""
    run = _current_run.get()
    if run is None:
        return
    run.step()


_current_run: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("sandbox_run", default=None)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _limits() -> SandboxLimits:
    run = _current_run.get()
    return run.limits if run is not None else DEFAULT_LIMITS


def _charge(n: int, what: str) -> None:
    """Account for ``n`` items/characters about to be built by ``what``."""
    limits = _limits()
    if n > limits.max_size:
        raise ScriptRejected(f"{what} would build {n:,} items/characters; the limit is {limits.max_size:,}.")
    run = _current_run.get()
    if run is not None:
        run.alloc += n
        if run.alloc > limits.max_alloc:
            raise ScriptRejected(f"the script built more than {limits.max_alloc:,} items/characters in total.")


def _sized(value: Any) -> int | None:
    try:
        return len(value)
    except Exception:  # objects without a length
        return None


def _text_size(obj: Any, limit: int) -> int:
    """Rough upper bound of ``len(str(obj))``, stopping once it passes ``limit``."""
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, (bytes, bytearray)):
            total += 4 * len(item) + 3
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 3
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total > limit:
                return total
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total > limit:
                return total
            stack.extend(item)
        else:
            total += 64
        if total > limit:
            return total
    return total


def _check_text(obj: Any, what: str) -> None:
    if isinstance(obj, (str, int, float, bool, date, time, timedelta)) or obj is None:
        return
    limit = _limits().max_size
    if _text_size(obj, limit) > limit:
        raise ScriptRejected(f"{what} would build a text longer than {limit:,} characters.")


# ---------------------------------------------------------------------------
# Guards called by the transformed code.

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _is_int(x: Any) -> bool:
    return isinstance(x, int)


def _guard_add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _charge(len(a) + len(b), "'+'")
    return a + b


def _guard_mul(a: Any, b: Any) -> Any:
    if _is_int(a) and _is_int(b):
        bits = a.bit_length() + b.bit_length()
        if bits > _limits().max_int_bits:
            raise ScriptRejected(f"'*' would build an integer of about {bits} bits; the limit is {_limits().max_int_bits}.")
    elif isinstance(a, _SEQUENCES) and _is_int(b):
        _charge(len(a) * max(b, 0), "'*'")
    elif _is_int(a) and isinstance(b, _SEQUENCES):
        _charge(len(b) * max(a, 0), "'*'")
    return a * b


def _guard_pow(a: Any, b: Any) -> Any:
    if _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        bits = a.bit_length() * b
        if bits > _limits().max_int_bits:
            raise ScriptRejected(f"'**' would build an integer of about {bits} bits; the limit is {_limits().max_int_bits}.")
    return a**b


def _guard_lshift(a: Any, b: Any) -> Any:
    if _is_int(a) and _is_int(b) and a != 0 and b > 0:
        bits = a.bit_length() + b
        if bits > _limits().max_int_bits:
            raise ScriptRejected(f"'<<' would build an integer of about {bits} bits; the limit is {_limits().max_int_bits}.")
    return a << b


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _guard_mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        for width, precision in _PERCENT_SPEC.findall(text):
            for number in (width, precision):
                if number == "*":
                    raise ScriptRejected("'*' widths in %-formatting are not allowed.")
                if number and int(number) > MAX_FORMAT_WIDTH:
                    raise ScriptRejected(f"%-format widths above {MAX_FORMAT_WIDTH} are not allowed.")
        _check_text(b, "'%' formatting")
        result = a % b
        _charge(len(result), "'%' formatting")
        return result
    return a % b


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": lambda a, b: (_guard_add(a, b) if not isinstance(a, list) else _iadd_list(a, b)),
    "-=": operator.isub,
    "*=": lambda a, b: (_guard_mul(a, b) if not isinstance(a, list) else _imul_list(a, b)),
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": _guard_mod,
    "**=": _guard_pow,
    "<<=": _guard_lshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _iadd_list(a: list[Any], b: Any) -> list[Any]:
    size = _sized(b)
    if size is not None:
        _charge(len(a) + size, "'+='")
    a += b
    return a


def _imul_list(a: list[Any], b: Any) -> list[Any]:
    if _is_int(b):
        _charge(len(a) * max(b, 0), "'*='")
    a *= b
    return a


def _guard_inplacevar(op: str, a: Any, b: Any) -> Any:
    func = _INPLACE.get(op)
    if func is None:
        raise ScriptRejected(f"the operator {op} is not allowed.")
    return func(a, b)


def _guard_fstr(value: str) -> str:
    _charge(len(value), "an f-string")
    return value


def _guard_fmtval(value: Any) -> Any:
    _check_text(value, "an f-string")
    return value


def _guard_charge_len(value: Any) -> Any:
    size = _sized(value)
    if size is not None:
        _charge(size, "unpacking")
    return value


def _guard_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _charge(len(args) + len(kwargs), "a call with * or **")
    return func(*args, **kwargs)


def _guard_getitem(obj: Any, index: Any) -> Any:
    result = obj[index]
    if isinstance(index, slice):
        size = _sized(result)
        if size is not None:
            _charge(size, "slicing")
    return result


def _guard_write(obj: Any) -> Any:
    if type(obj) in (dict, list):
        return obj
    raise ScriptRejected(f"a {_kind(obj)} cannot be changed; only dicts and lists can.")


class _NoPrint:
    """``print`` in a script: accepted, output discarded."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def _kind(obj: Any) -> str:
    if isinstance(obj, type):
        return f"type ({obj.__name__})"
    if callable(obj):
        return "function"
    return type(obj).__name__


# Attribute access: plain value types only, no underscore names, a few methods
# refused and a few wrapped with size checks.
_ISO_CALENDAR_DATE = type(date(2026, 1, 1).isocalendar())
_ATTR_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, list, dict, tuple, set, frozenset, date, datetime, time, timedelta, _ISO_CALENDAR_DATE}
)
_REFUSED_METHODS: dict[str, str] = {
    "format": "str.format is not allowed in diagram scripts; use an f-string or +.",
    "format_map": "str.format_map is not allowed in diagram scripts; use an f-string or +.",
    "translate": "str.translate is not allowed in diagram scripts.",
    "maketrans": "str.maketrans is not allowed in diagram scripts.",
    "to_bytes": "int.to_bytes is not allowed in diagram scripts.",
}


def _width_method(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    def guarded(width: Any, *rest: Any) -> Any:
        if _is_int(width):
            _charge(max(width, 0), f"str.{name}")
        return method(width, *rest)

    return guarded


def _guarded_str_method(obj: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if name in ("ljust", "rjust", "center", "zfill"):
        return _width_method(method, name)
    if name == "expandtabs":

        def expandtabs(tabsize: Any = 8) -> Any:
            if _is_int(tabsize):
                _charge(len(obj) + obj.count("\t") * max(tabsize, 0), "str.expandtabs")
            return method(tabsize)

        return expandtabs
    if name == "replace":

        def replace(old: Any, new: Any, count: Any = -1) -> Any:
            if isinstance(old, str) and isinstance(new, str) and _is_int(count):
                hits = obj.count(old) if old else len(obj) + 1
                if count >= 0:
                    hits = min(hits, count)
                _charge(len(obj) + hits * max(len(new) - len(old), 0), "str.replace")
            return method(old, new, count)

        return replace
    if name == "join":

        def join(iterable: Iterable[Any]) -> Any:
            items = list(iterable)
            _charge(len(items), "str.join")
            size = sum(len(i) for i in items if isinstance(i, str)) + len(obj) * max(len(items) - 1, 0)
            _charge(size, "str.join")
            return method(items)

        return join
    if name in ("split", "rsplit", "splitlines", "encode"):

        def charged(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            _charge(len(result), f"str.{name}")
            return result

        return charged
    return method


def _guarded_getattr(obj: Any, name: str) -> Any:
    if type(name) is not str:
        raise ScriptRejected("attribute names must be text.")
    if name.startswith("_"):
        raise ScriptRejected(f'the attribute "{name}" is not allowed: names starting with "_" are private.')
    if name in INSPECT_ATTRIBUTES:
        raise ScriptRejected(f'the attribute "{name}" is not allowed.')
    if type(obj) not in _ATTR_TYPES:
        raise ScriptRejected(f'".{name}" on a {_kind(obj)} is not allowed; attributes work on plain values only.')
    refused = _REFUSED_METHODS.get(name)
    if refused is not None:
        raise ScriptRejected(refused)
    value = getattr(obj, name)
    if isinstance(obj, str):
        return _guarded_str_method(obj, name, value)
    if type(obj) is list and name == "extend":

        def extend(items: Iterable[Any]) -> None:
            size = _sized(items)
            if size is None:
                items = list(items)
                size = len(items)
            _charge(len(obj) + size, "list.extend")
            obj.extend(items)

        return extend
    if name == "copy" and isinstance(obj, (list, dict, set)):

        def copy() -> Any:
            _charge(len(obj), "copy()")
            return obj.copy()

        return copy
    if name == "strftime" and isinstance(obj, (date, time)):

        def strftime(fmt: Any) -> Any:
            if isinstance(fmt, str) and len(fmt) > 256:
                raise ScriptRejected("strftime formats longer than 256 characters are not allowed.")
            return obj.strftime(fmt)

        return strftime
    return value


# ---------------------------------------------------------------------------
# Helpers (named builtins).


class _Forbidden:
    """Stands for a builtin that scripts may not use; calling it explains why."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ScriptRejected(f"{self.name}() is not available in diagram scripts.")

    def __repr__(self) -> str:
        return f"<not available: {self.name}>"


_FORBIDDEN_NAMES = (
    "open", "exec", "eval", "compile", "globals", "locals", "vars", "dir", "getattr",
    "setattr", "delattr", "hasattr", "type", "object", "input", "breakpoint", "help",
    "exit", "quit", "memoryview", "bytearray", "bytes", "super", "classmethod",
    "staticmethod", "property", "iter", "next", "format", "repr", "id", "hash",
    "callable", "isinstance", "issubclass", "map", "filter", "reversed", "__import__",
    "__build_class__",
)  # fmt: skip


def _number(x: Any, what: str) -> Decimal:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what} needs a number, got {type(x).__name__}")
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{what} needs a finite number, got {x!r}")
        return Decimal(repr(x))
    return Decimal(x)


def round_down(x: int | float, step: int | float = 1) -> int | float:
    """Floor ``x`` to a multiple of ``step`` (int result when ``step`` is an int)."""
    dx, ds = _number(x, "round_down"), _number(step, "round_down")
    if ds <= 0:
        raise ValueError("round_down: step must be greater than 0")
    if isinstance(x, int) and isinstance(step, int):
        return (x // step) * step
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            result = (dx / ds).to_integral_value(rounding=ROUND_FLOOR) * ds
        except InvalidOperation as err:
            raise ValueError("round_down: value out of range") from err
    return int(result) if isinstance(step, int) else float(result)


def round_half_up(x: int | float, ndigits: int = 0) -> int | float:
    """Round half away from zero at ``ndigits`` decimals, in Decimal."""
    dx = _number(x, "round_half_up")
    if isinstance(ndigits, bool) or not isinstance(ndigits, int) or abs(ndigits) > 30:
        raise ValueError("round_half_up: ndigits must be an int between -30 and 30")
    with localcontext() as ctx:
        ctx.prec = 80
        try:
            result = dx.quantize(Decimal(1).scaleb(-ndigits), rounding=ROUND_HALF_UP)
        except InvalidOperation as err:
            raise ValueError("round_half_up: value out of range") from err
    return int(result) if ndigits <= 0 else float(result)


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and _is_int(ndigits) and abs(ndigits) > 100:
        raise ScriptRejected("round(): ndigits must be between -100 and 100.")
    return round(number) if ndigits is None else round(number, ndigits)


def _sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    if isinstance(start, bool) or not isinstance(start, (int, float)):
        raise ScriptRejected("sum() adds numbers only.")
    return sum(iterable, start)


def _range(*args: Any) -> range:
    r = range(*args)
    try:
        size = len(r)
    except OverflowError:
        size = sys.maxsize
    limit = _limits().max_range
    if size > limit:
        raise ScriptRejected(f"range() of {size:,} items is over the limit of {limit:,}.")
    _charge(size, "range()")
    return r


def _list(iterable: Iterable[Any] = ()) -> list[Any]:
    result = list(iterable)
    _charge(len(result), "list()")
    return result


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    result = dict(*args, **kwargs)
    _charge(len(result), "dict()")
    return result


def _sorted(iterable: Iterable[Any], *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> list[Any]:
    result = sorted(iterable, key=key, reverse=reverse)
    _charge(len(result), "sorted()")
    return result


def _str(obj: Any = "", *args: Any) -> str:
    if not args:
        _check_text(obj, "str()")
    result = str(obj, *args)
    _charge(len(result), "str()")
    return result


_MAX_SPAN_DAYS = 3_700
_MAX_WORKING_DAYS = 2_600


def _int_arg(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what}: n must be an int, got {type(n).__name__}")
    return n


def _make_helpers(source: CalendarSource, clock: Clock, hours: OfficeHours | None = None) -> dict[str, Any]:
    office_hours = hours or OfficeHours()
    current: Callable[[], WorkingCalendar] = (
        (lambda: source) if isinstance(source, WorkingCalendar) else source)

    def today() -> date:
        """Office-local date of the clock's now."""
        return current().local_date(clock.now())

    def now() -> datetime:
        """Aware UTC datetime from the clock."""
        return clock.now().astimezone(UTC)

    def parse_date(value: Any) -> date:
        """A date from an ISO date/datetime string, a date or a datetime."""
        if isinstance(value, datetime):
            aware = value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None
            return current().local_date(value) if aware else value.date()
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise TypeError(f"parse_date needs an ISO date string or a date, got {type(value).__name__}")
        text = value.strip()
        if len(text) > 64:
            raise ValueError("parse_date: text too long for a date")
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return parse_date(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(f"parse_date: {value!r} is not an ISO 8601 date such as '2026-01-31'") from None

    def add_days(value: Any, n: int) -> str:
        """ISO date ``n`` calendar days after ``value``."""
        n = _int_arg(n, "add_days")
        if abs(n) > 36_600:
            raise ValueError("add_days: n must be between -36600 and 36600")
        return (parse_date(value) + timedelta(days=n)).isoformat()

    def add_working_days(value: Any, n: int) -> str:
        """ISO date of the n-th working day after ``value`` (n >= 0)."""
        n = _int_arg(n, "add_working_days")
        if n < 0:
            raise ValueError("add_working_days: n must be >= 0")
        if n > _MAX_WORKING_DAYS:
            raise ValueError(f"add_working_days: n must be at most {_MAX_WORKING_DAYS}")
        return current().add_working_days(parse_date(value), n).isoformat()

    def working_days_between(a: Any, b: Any) -> int:
        """Working days in (a, b]; negative when b < a."""
        start, end = parse_date(a), parse_date(b)
        if abs((end - start).days) > _MAX_SPAN_DAYS:
            raise ValueError(f"working_days_between: dates more than {_MAX_SPAN_DAYS} days apart")
        return current().working_days_between(start, end)

    def iso_days(n: int) -> str:
        """ISO 8601 duration of n days, e.g. 'P3D' (n >= 0)."""
        n = _int_arg(n, "iso_days")
        if n < 0:
            raise ValueError("iso_days: n must be >= 0")
        return f"P{n}D"

    def working_days_from_now(n: int) -> str:
        """Close of office hours of the n-th working day after today, as an aware ISO datetime."""
        n = _int_arg(n, "working_days_from_now")
        if n < 0:
            raise ValueError("working_days_from_now: n must be >= 0")
        if n > _MAX_WORKING_DAYS:
            raise ValueError(f"working_days_from_now: n must be at most {_MAX_WORKING_DAYS}")
        calendar = current()
        due = deadline_after(calendar, office_hours, clock.now(), n)
        return due.astimezone(calendar.timezone).isoformat()

    helpers: dict[str, Any] = {
        "round_down": round_down,
        "round_half_up": round_half_up,
        "floor": math.floor,
        "ceil": math.ceil,
        "min": min,
        "max": max,
        "sum": _sum,
        "abs": abs,
        "len": len,
        "int": int,
        "float": float,
        "str": _str,
        "bool": bool,
        "round": _round,
        "sorted": _sorted,
        "list": _list,
        "dict": _dict,
        "range": _range,
        "enumerate": enumerate,
        "zip": zip,
        "any": any,
        "all": all,
        "today": today,
        "now": now,
        "parse_date": parse_date,
        "add_days": add_days,
        "add_working_days": add_working_days,
        "working_days_between": working_days_between,
        "iso_days": iso_days,
        "working_days_from_now": working_days_from_now,
    }
    return helpers


_GUARDS: dict[str, Any] = {
    "_getattr_": _guarded_getattr,
    "_getitem_": _guard_getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _guard_write,
    "_inplacevar_": _guard_inplacevar,
    "_apply_": _guard_apply,
    "_print_": _NoPrint,
    "_add_": _guard_add,
    "_mul_": _guard_mul,
    "_pow_": _guard_pow,
    "_lshift_": _guard_lshift,
    "_mod_": _guard_mod,
    "_fstr_": _guard_fstr,
    "_fmtval_": _guard_fmtval,
    "_charge_len_": _guard_charge_len,
    "_tick_": _guard_tick,
}


# ---------------------------------------------------------------------------
# Results and task data must be plain data.

_SCALARS = (str, bool, int, float, type(None))
_KEY_TYPES = (str, int, float, bool, type(None))


def _short(where: str) -> str:
    return where if len(where) <= 60 else where[:57] + "..."


class _DataCheck:
    def __init__(self, limits: SandboxLimits, convert_dates: bool) -> None:
        self.limits = limits
        self.convert = convert_dates
        self.nodes = 0

    def value(self, value: Any, where: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_data_nodes:
            raise ScriptRejected(f"the data is too large (more than {self.limits.max_data_nodes:,} values).")
        if depth > self.limits.max_data_depth:
            raise ScriptRejected(f"'{_short(where)}' is nested too deeply or refers to itself.")
        if isinstance(value, _SCALARS):
            return value
        if isinstance(value, (date, time)):  # datetime is a date
            return value.isoformat() if self.convert else value
        if isinstance(value, timedelta) and not self.convert:
            return value
        if isinstance(value, dict):
            for key in list(value):
                if not isinstance(key, _KEY_TYPES):
                    raise ScriptRejected(
                        f"'{_short(where)}' has a key of type {type(key).__name__}; keys must be text or numbers."
                    )
                item = value[key]
                new = self.value(item, f"{where}[{key!r}]", depth + 1)
                if new is not item:
                    value[key] = new
            return value
        if isinstance(value, list):
            for i, item in enumerate(value):
                new = self.value(item, f"{where}[{i}]", depth + 1)
                if new is not item:
                    value[i] = new
            return value
        if isinstance(value, tuple):
            items = [self.value(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
            changed = any(a is not b for a, b in zip(items, value, strict=True))
            return tuple(items) if changed else value
        if isinstance(value, (set, frozenset)):
            items = [self.value(item, f"{where} item", depth + 1) for item in value]
            changed = any(a is not b for a, b in zip(items, value, strict=True))
            return type(value)(items) if changed else value
        hint = " (store a number, e.g. .days)" if isinstance(value, timedelta) else ""
        raise ScriptRejected(f"'{_short(where)}' holds a {_kind(value)}, which cannot be kept in task data{hint}.")


# ---------------------------------------------------------------------------
# The environment.


def _script_lineno(tb: TracebackType | None) -> int | None:
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs diagram scripts and expressions under RestrictedPython with budgets.

    Same data semantics as SpiffWorkflow's ``TaskDataEnvironment`` (see module doc).
    """

    def __init__(
        self,
        calendar: CalendarSource | None = None,
        clock: Clock | None = None,
        limits: SandboxLimits | None = None,
        office_hours: OfficeHours | None = None,
    ) -> None:
        super().__init__({})
        self.calendar: CalendarSource = calendar if calendar is not None else WorkingCalendar()
        self.clock = clock if clock is not None else SYSTEM_CLOCK
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.helpers: dict[str, Any] = _make_helpers(self.calendar, self.clock, office_hours)
        builtins: dict[str, Any] = {name: _Forbidden(name) for name in _FORBIDDEN_NAMES}
        builtins.update(self.helpers)
        builtins.update(_GUARDS)
        self._builtins = builtins

    # -- SpiffWorkflow interface ---------------------------------------------------------

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = _compiled(expression, "eval")
        scope: dict[str, Any] = {}
        scope.update(external_context or {})
        scope.update(context)
        scope.update(_GUARDS)
        scope["__builtins__"] = self._builtins
        result = self._run(code, scope, "eval")
        return _DataCheck(self.limits, convert_dates=False).value(result, "the expression's result", 0)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = _compiled(script, "exec")
        before = set(context)
        saved = {name: context[name] for name in _GUARDS if name in context}
        context.update(external_context)
        context.update(_GUARDS)
        context["__builtins__"] = self._builtins
        try:
            self._run(code, context, "exec")
        finally:
            self._clean_context(context, external_context, before, saved)
        check = _DataCheck(self.limits, convert_dates=True)
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
        for name in _GUARDS:
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
        run = _Run(self.limits)
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

        token = _current_run.set(run)
        sys.settrace(global_trace)
        try:
            if mode == "exec":
                exec(code, scope)  # noqa: S102 - restricted code, guarded globals
                return None
            return eval(code, scope)  # noqa: S307 - restricted code, guarded globals
        except ScriptRejected as err:
            err.set_line(_script_lineno(err.__traceback__))
            raise
        except RecursionError as err:
            raise ScriptRejected("the script recursed too deeply.", _script_lineno(err.__traceback__)) from None
        except MemoryError as err:
            raise ScriptRejected("the script ran out of memory.", _script_lineno(err.__traceback__)) from None
        finally:
            sys.settrace(previous)
            _current_run.reset(token)


# ---------------------------------------------------------------------------
# The engine.


def _describe(err: BaseException) -> str:
    if isinstance(err, ScriptRejected):
        return str(err)
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class SandboxScriptEngine(PythonScriptEngine):
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
            err.line_number = line_number  # type: ignore[attr-defined]
            err.error_line = error_line  # type: ignore[attr-defined]
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            return err
        return WorkflowTaskException(
            _describe(err), task=task, exception=err, line_number=line_number, error_line=error_line
        )

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        line_number = 0
        if isinstance(err, (ScriptRejected, SyntaxError)) and err.lineno:
            line_number = err.lineno
        else:
            line_number = _script_lineno(err.__traceback__) or 0
        lines = script.splitlines() if isinstance(script, str) else []
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line


def make_script_engine(
    calendar: CalendarSource | None = None,
    clock: Clock | None = None,
    limits: SandboxLimits | None = None,
    office_hours: OfficeHours | None = None,
) -> SandboxScriptEngine:
    """The script engine to assign to every workflow (again after every deserialise).

    ``calendar`` may be a function returning the office calendar as it is now.
    """
    return SandboxScriptEngine(SandboxEnvironment(calendar=calendar, clock=clock, limits=limits,
                                                  office_hours=office_hours))
