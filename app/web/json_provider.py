"""JSON bodies read with a nesting limit.

Python's parser recurses once per level: a body nested 100,000 deep raises
``RecursionError`` (a 500) and one nested a few thousand deep would reach the
form checks and the engine. Every JSON body the application reads (the API,
the designer) goes through :meth:`LimitedJSONProvider.loads`, which turns both
into ``ValueError`` -- what Flask's ``get_json`` treats as a bad request.
"""
from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

# Deeper than any form, diagram request or API payload we define (forms nest a few levels).
MAX_JSON_DEPTH = 64


class JSONTooDeep(ValueError):
    pass


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`JSONTooDeep` when ``value`` nests lists/dicts deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JSONTooDeep(f"JSON nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


class LimitedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError as exc:
            raise JSONTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
        if _openings(s) > MAX_JSON_DEPTH:  # else it cannot nest that deep: no walk (most bodies, e.g. a form's values)
            check_depth(value)
        return value


def _openings(s: str | bytes) -> int:
    """How many ``[`` and ``{`` the text holds (inside strings too): no value in it nests deeper."""
    if isinstance(s, str):
        return s.count("[") + s.count("{")
    return s.count(b"[") + s.count(b"{")
