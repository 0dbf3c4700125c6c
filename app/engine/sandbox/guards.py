"""Guards the transformed code calls: every operation that builds or reaches values.

RestrictedPython's own guards are used where they fit (sequence unpacking, ``safer_getattr``
as the last step of attribute access); the rest charge the run's budgets.
"""
from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from app.engine.sandbox.budgets import charge, check_text, content_size, guard_tick, limits_now, sized
from app.engine.sandbox.policy import MAX_FORMAT_WIDTH, ScriptRejected

# RestrictedPython leaves it unannotated: (object, name) -> attribute, or raises.
_safer_getattr = cast(Callable[[object, str], Any], safer_getattr)

# ---------------------------------------------------------------------------
# Guards called by the transformed code.

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def is_int(x: Any) -> bool:
    return isinstance(x, int)


def _guard_add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        charge(len(a) + len(b), "'+'")
    return a + b


def _guard_mul(a: Any, b: Any) -> Any:
    if is_int(a) and is_int(b):
        bits = a.bit_length() + b.bit_length()
        if bits > limits_now().max_int_bits:
            raise ScriptRejected(f"'*' would build an integer of about {bits} bits; the limit is {limits_now().max_int_bits}.")
    elif isinstance(a, _SEQUENCES) and is_int(b):
        charge(_repeat_size(a, b), "'*'")
    elif is_int(a) and isinstance(b, _SEQUENCES):
        charge(_repeat_size(b, a), "'*'")
    return a * b


def _repeat_size(seq: Any, times: int) -> int:
    """What ``seq * times`` really holds: the items and the characters of the strings
    inside them (``[a] * 150`` with a 1,000,000-character ``a`` is 150,000,000)."""
    if times <= 0:
        return 0
    limit = limits_now().max_size // times + 1
    return max(len(seq), content_size(seq, limit)) * times


def _guard_pow(a: Any, b: Any) -> Any:
    if is_int(a) and is_int(b) and b > 0 and abs(a) > 1:
        bits = a.bit_length() * b
        if bits > limits_now().max_int_bits:
            raise ScriptRejected(f"'**' would build an integer of about {bits} bits; the limit is {limits_now().max_int_bits}.")
    return a**b


def _guard_lshift(a: Any, b: Any) -> Any:
    if is_int(a) and is_int(b) and a != 0 and b > 0:
        bits = a.bit_length() + b
        if bits > limits_now().max_int_bits:
            raise ScriptRejected(f"'<<' would build an integer of about {bits} bits; the limit is {limits_now().max_int_bits}.")
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
        check_text(b, "'%' formatting")
        result = a % b
        charge(len(result), "'%' formatting")
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
    size = sized(b)
    if size is not None:
        charge(len(a) + size, "'+='")
    a += b
    return a


def _imul_list(a: list[Any], b: Any) -> list[Any]:
    if is_int(b):
        charge(_repeat_size(a, b), "'*='")
    a *= b
    return a


def _guard_inplacevar(op: str, a: Any, b: Any) -> Any:
    func = _INPLACE.get(op)
    if func is None:
        raise ScriptRejected(f"the operator {op} is not allowed.")
    return func(a, b)


def _guard_fstr(value: str) -> str:
    charge(len(value), "an f-string")
    return value


def _guard_fmtval(value: Any) -> Any:
    check_text(value, "an f-string")
    return value


def _guard_charge_len(value: Any) -> Any:
    size = sized(value)
    if size is not None:
        charge(size, "unpacking")
    return value


def _guard_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    charge(len(args) + len(kwargs), "a call with * or **")
    return func(*args, **kwargs)


def _guard_getitem(obj: Any, index: Any) -> Any:
    result = obj[index]
    if isinstance(index, slice):
        size = sized(result)
        if size is not None:
            charge(size, "slicing")
    return result


def _guard_write(obj: Any) -> Any:
    if type(obj) in (dict, list):
        return obj
    raise ScriptRejected(f"a {kind(obj)} cannot be changed; only dicts and lists can.")


class _NoPrint:
    """``print`` in a script: accepted, output discarded."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def kind(obj: Any) -> str:
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
        if is_int(width):
            charge(max(width, 0), f"str.{name}")
        return method(width, *rest)

    return guarded


def _guarded_str_method(obj: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if name in ("ljust", "rjust", "center", "zfill"):
        return _width_method(method, name)
    if name == "expandtabs":

        def expandtabs(tabsize: Any = 8) -> Any:
            if is_int(tabsize):
                charge(len(obj) + obj.count("\t") * max(tabsize, 0), "str.expandtabs")
            return method(tabsize)

        return expandtabs
    if name == "replace":

        def replace(old: Any, new: Any, count: Any = -1) -> Any:
            if isinstance(old, str) and isinstance(new, str) and is_int(count):
                hits = obj.count(old) if old else len(obj) + 1
                if count >= 0:
                    hits = min(hits, count)
                charge(len(obj) + hits * max(len(new) - len(old), 0), "str.replace")
            return method(old, new, count)

        return replace
    if name == "join":

        def join(iterable: Iterable[Any]) -> Any:
            items = list(iterable)
            charge(len(items), "str.join")
            size = sum(len(i) for i in items if isinstance(i, str)) + len(obj) * max(len(items) - 1, 0)
            charge(size, "str.join")
            return method(items)

        return join
    if name in ("split", "rsplit", "splitlines", "encode"):

        def charged(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            charge(len(result), f"str.{name}")
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
        raise ScriptRejected(f'".{name}" on a {kind(obj)} is not allowed; attributes work on plain values only.')
    refused = _REFUSED_METHODS.get(name)
    if refused is not None:
        raise ScriptRejected(refused)
    value = _safer_getattr(obj, name)  # RestrictedPython's own check, then getattr
    if isinstance(obj, str):
        return _guarded_str_method(obj, name, value)
    if type(obj) is list and name == "extend":

        def extend(items: Iterable[Any]) -> None:
            size = sized(items)
            if size is None:
                items = list(items)
                size = len(items)
            charge(len(obj) + size, "list.extend")
            obj.extend(items)

        return extend
    if name == "copy" and isinstance(obj, (list, dict, set)):

        def copy() -> Any:
            charge(len(obj), "copy()")
            return obj.copy()

        return copy
    if name == "strftime" and isinstance(obj, (date, time)):

        def strftime(fmt: Any) -> Any:
            if isinstance(fmt, str) and len(fmt) > 256:
                raise ScriptRejected("strftime formats longer than 256 characters are not allowed.")
            return obj.strftime(fmt)

        return strftime
    return value


GUARDS: dict[str, Any] = {
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
    "_tick_": guard_tick,
}


