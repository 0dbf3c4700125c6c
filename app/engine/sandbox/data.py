"""Data checks: what a script leaves in task data (or an expression returns) must be plain,
bounded data; and the JSON wire format values cross to and from a script process in."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from app.engine.sandbox.budgets import SandboxLimits
from app.engine.sandbox.guards import kind
from app.engine.sandbox.policy import ScriptRejected

_SCALARS = (str, bool, int, float, type(None))
_KEY_TYPES = (str, int, float, bool, type(None))


def _short(where: str) -> str:
    return where if len(where) <= 60 else where[:57] + "..."


class DataCheck:
    """Walks a value that is about to be kept: plain data only, at most ``max_data_nodes``
    values, ``max_data_depth`` levels and ``max_data_chars`` characters of text in all
    (a string held many times counts every time: that is what would be stored)."""

    def __init__(self, limits: SandboxLimits, convert_dates: bool) -> None:
        self.limits = limits
        self.convert = convert_dates
        self.nodes = 0
        self.chars = 0

    def value(self, value: Any, where: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_data_nodes:
            raise ScriptRejected(f"the data is too large (more than {self.limits.max_data_nodes:,} values).")
        if depth > self.limits.max_data_depth:
            raise ScriptRejected(f"'{_short(where)}' is nested too deeply or refers to itself.")
        if isinstance(value, str):
            self._text(len(value), where)
            return value
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
                if isinstance(key, str):
                    self._text(len(key), where)
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
        raise ScriptRejected(f"'{_short(where)}' holds a {kind(value)}, which cannot be kept in task data{hint}.")



    def _text(self, n: int, where: str) -> None:
        self.chars += n
        if self.chars > self.limits.max_data_chars:
            raise ScriptRejected(
                f"the data would hold more than {self.limits.max_data_chars:,} characters of text "
                f"(at '{_short(where)}'); nothing was kept."
            )


def within(value: Any, max_nodes: int, max_chars: int) -> bool:
    """Whether ``value`` holds at most ``max_nodes`` values and ``max_chars`` characters of text (keys
    and items counted, a value held twice counted twice). Stops as soon as either is passed, so it costs
    at most a walk of ``max_nodes`` values, however large ``value`` is."""
    nodes = chars = 0
    stack = [value]
    while stack:
        item = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return False
        if isinstance(item, str):
            chars += len(item)
            if chars > max_chars:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return True


# ---------------------------------------------------------------------------
# The wire between the app and a script process: JSON, with a few tagged types.
# Nothing but these plain values crosses (no pickle: a script process is not trusted).

_TAG = "__sandbox_type__"


def encode(value: Any) -> Any:
    """``value`` as JSON-able data; dates, tuples, sets and non-text keys are tagged."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if _TAG not in value and all(type(key) is str for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {_TAG: "dict", "v": [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {_TAG: type(value).__name__, "v": [encode(item) for item in value]}
    raise TypeError(f"a {kind(value)} cannot be passed to or from a diagram script")


def _decode_tagged(obj: dict[str, Any]) -> Any:
    tag = obj.get(_TAG)
    if tag is None:
        return obj
    v = obj["v"]
    if tag == "dict":
        return {(tuple(k) if isinstance(k, list) else k): item for k, item in v}
    if tag == "datetime":
        return datetime.fromisoformat(v)
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "time":
        return time.fromisoformat(v)
    if tag == "timedelta":
        return timedelta(days=v[0], seconds=v[1], microseconds=v[2])
    if tag == "tuple":
        return tuple(v)
    if tag == "set":
        return set(v)
    if tag == "frozenset":
        return frozenset(v)
    raise ValueError(f"unknown value type {tag!r} on the script wire")


_INT_BITS_ALWAYS_PRINTABLE = 14_000  # below sys.get_int_max_str_digits()'s default (4,300 digits)


def decode(value: Any) -> Any:
    """What the other end of the wire reads for an :func:`encode`d value: ``loads(dumps(value))``
    without the JSON text (scripts that run in this process, see straight_line.py).

    Fresh lists and dicts, tagged values rebuilt, subclasses of str/int/float read back as the
    plain type, and an int JSON cannot print fails with the same ValueError."""
    kind_of = type(value)
    if kind_of is str or kind_of is bool or kind_of is float or value is None:
        return value
    if kind_of is int:
        if value.bit_length() > _INT_BITS_ALWAYS_PRINTABLE:
            int.__repr__(value)  # raises past sys.get_int_max_str_digits(), as json.dumps does
        return value
    if kind_of is list:
        return [decode(item) for item in value]
    if kind_of is dict:
        return _decode_tagged({key: decode(item) for key, item in value.items()})
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return decode(int.__int__(value))
    if isinstance(value, float):
        return float.__float__(value)
    raise TypeError(f"{type(value).__name__} is not a value encode() gives")


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw, object_hook=_decode_tagged)
