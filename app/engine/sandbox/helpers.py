"""Named builtins of the sandbox: numbers, containers and the names refused by name.

Date and working-day helpers are not here: they need the office calendar and clock,
so the container injects them (see ``app/sla/script_helpers.py``).
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from app.engine.sandbox.budgets import charge, check_text, limits_now
from app.engine.sandbox.guards import is_int
from app.engine.sandbox.policy import ScriptRejected


class Forbidden:
    """Stands for a builtin that scripts may not use; calling it explains why."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ScriptRejected(f"{self.name}() is not available in diagram scripts.")

    def __repr__(self) -> str:
        return f"<not available: {self.name}>"


FORBIDDEN_NAMES = (
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
    if ndigits is not None and is_int(ndigits) and abs(ndigits) > 100:
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
    limit = limits_now().max_range
    if size > limit:
        raise ScriptRejected(f"range() of {size:,} items is over the limit of {limit:,}.")
    charge(size, "range()")
    return r


def _list(iterable: Iterable[Any] = ()) -> list[Any]:
    result = list(iterable)
    charge(len(result), "list()")
    return result


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    result = dict(*args, **kwargs)
    charge(len(result), "dict()")
    return result


def _sorted(iterable: Iterable[Any], *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> list[Any]:
    result = sorted(iterable, key=key, reverse=reverse)
    charge(len(result), "sorted()")
    return result


def _str(obj: Any = "", *args: Any) -> str:
    if not args:
        check_text(obj, "str()")
    result = str(obj, *args)
    charge(len(result), "str()")
    return result



def builtin_helpers() -> dict[str, Any]:
    """The helpers every script has, by name."""
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
    }
    return helpers


