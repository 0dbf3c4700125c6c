"""Straight-line scripts: the ones safe to run in the calling process instead of a script process.

A script process (app/engine/sandbox/pool.py) exists because one C-level call can hold the
interpreter past any budget the line tracer enforces: ``a == b`` on lists nested deep with
shared items, ``sorted`` of a huge list, a regular expression... Each trip there costs a pipe
round trip (~275 µs), even for ``outcome = "granted"`` or ``decision == "setuju"``.

:func:`runs_inline` says True only for a source whose syntax tree uses nothing but this
allow-list, so that its work is bounded without the pool's outside deadline:

* statements: ``name = ... [= ...]`` (plain names as targets), an expression, ``pass``;
* expressions: a name, a constant (``str`` of at most :data:`MAX_STR_CHARS` characters,
  ``int`` below 2**64 in size, ``float``, ``bool``, ``None``), ``and``/``or``, ``not``, unary
  ``-``/``+``, comparisons ``== != < <= > >=``, ``x if c else y``, and ``+ - * / //``;
* at most :data:`MAX_NODES` syntax nodes and :data:`MAX_STATEMENTS` statements; no name
  starting with ``_``;
* comparisons, or ``+``/``*``, not both in one source.

Why that is safe: there are no loops, calls, comprehensions, subscripts or attributes, so a
script runs each of its at most :data:`MAX_NODES` operations once. ``+`` and ``*`` compile to
the guards ``_add_``/``_mul_`` (policy.py, guards.py), which refuse a string or list past
``max_size``/``max_alloc`` and an int product past ``max_int_bits`` before building it.
``-``, ``/`` and ``//`` are not guarded but cannot build anything larger than their operands
(an int one bit longer at most; a set difference no larger than its left side). Comparisons and
``not`` cost at most a walk over their operands, and the operands are plain task data the caller
copies fresh from the wire form (:func:`app.engine.sandbox.data.decode`): a tree, with no shared
items to compare over and over, of at most :data:`MAX_DATA_NODES` values and :data:`MAX_DATA_CHARS`
characters (larger task data goes to a script process whatever the source). That is why a source that compares
may not also use ``+`` or ``*``: ``xs + xs`` builds a list holding the same items twice, and twenty
doublings hold one large value a million times within ``max_size``; comparing two such lists would
walk that value a million times in one C-level call, which only a script process's deadline can
stop. Without comparisons what ``+``/``*`` build is only kept, and the data check after the run
(``max_data_nodes``) refuses it after a bounded walk. The run still goes through
:class:`~app.engine.sandbox.environment.SandboxEnvironment` (RestrictedPython, guards, tracer,
data checks), so its rules and messages are the pool's.

Deliberately excluded (these run in a script process, as before): calls (helpers such as
``sorted``, ``today()``, methods), attributes, subscripts and slices, comprehensions, lambdas,
f-strings (``_fstr_`` is guarded, but formatting is a C-level call), list/dict/set/tuple
displays, ``%`` (``%``-formatting), ``**`` and ``<<`` (guarded, but kept out: large results
for little source), ``in``/``not in`` (linear in the container, and a container's ``__eq__``
per item), ``is``/``is not``, ``~``, ``&``, ``|``, ``^``, ``>>``, augmented assignment
(``+=`` on a list changes it in place), ``:=``, loops, ``if``/``def``/``del``/``assert`` and
anything else not listed above.
"""
from __future__ import annotations

import ast
import functools
from typing import Any

from app.engine.sandbox.data import within
from app.engine.sandbox.policy import MAX_SOURCE_CHARS

MAX_NODES = 200
MAX_STATEMENTS = 50
MAX_STR_CHARS = 10_000
MAX_INT = 2**64
# The most task data (values, characters of text) a straight-line source runs on in this process; larger
# data goes to a script process. Its ~65 comparisons at most then walk 65 x 20,000 values (~40 ms here)
# rather than 65 x whatever the data holds: the task data a script is given is not bounded on the way in
# (only what a script keeps is), and 63 comparisons over 600,000 values held the process 3.7 s.
MAX_DATA_NODES = 20_000
MAX_DATA_CHARS = 1_000_000

_STATEMENTS = (ast.Assign, ast.Expr, ast.Pass)
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv)
_UNARY = (ast.Not, ast.USub, ast.UAdd)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_CONSTANT_TYPES = (str, int, float, bool, type(None))


def runs_inline(source: object, mode: str, *data: Any) -> bool:
    """True when ``source`` (``mode`` ``"exec"`` for a script, ``"eval"`` for an expression)
    is straight-line and each of ``data`` (the task data, the external context) is small enough
    (:data:`MAX_DATA_NODES`, :data:`MAX_DATA_CHARS`): safe to run in the calling process (see the module doc)."""
    if not isinstance(source, str) or mode not in ("exec", "eval"):
        return False
    return _straight_line(source, mode) and all(within(d, MAX_DATA_NODES, MAX_DATA_CHARS) for d in data)


@functools.lru_cache(maxsize=1024)
def _straight_line(source: str, mode: str) -> bool:
    """:func:`runs_inline` for a text ``source``, cached by ``(source, mode)``."""
    if len(source) > MAX_SOURCE_CHARS:
        return False
    if mode == "eval":
        source = source.strip()  # as the compiler does (policy._compile)
    try:
        tree = ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # the pool gives the compiler's message
    compares = builds = False
    for count, node in enumerate(ast.walk(tree), 1):
        if count > MAX_NODES or not _allowed(node):
            return False
        compares = compares or isinstance(node, ast.Compare)
        builds = builds or isinstance(node, (ast.Add, ast.Mult))
    if compares and builds:
        return False  # see the module doc: comparing what + or * built has no bound here
    if isinstance(tree, ast.Module):
        return len(tree.body) <= MAX_STATEMENTS
    return isinstance(tree, ast.Expression)


def _allowed(node: ast.AST) -> bool:
    if isinstance(node, (ast.Module, ast.Expression, ast.Pass, ast.Expr, ast.Load, ast.Store,
                         ast.BoolOp, ast.And, ast.Or, ast.IfExp, ast.Compare, *_OPERATORS, *_UNARY, *_COMPARISONS)):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(target, ast.Name) for target in node.targets)
    if isinstance(node, ast.Name):
        return not node.id.startswith("_")
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _OPERATORS)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, _UNARY)
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) not in _CONSTANT_TYPES:
            return False
        if isinstance(value, str):
            return len(value) <= MAX_STR_CHARS
        if isinstance(value, int):
            return -MAX_INT < value < MAX_INT
        return True
    return False
