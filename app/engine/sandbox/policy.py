"""Compile-time policy: RestrictedPython's transformer, tightened for diagram scripts.

:func:`check_source` is the designer's check before deploy; :func:`compiled` gives the
code object a run executes (cached), or raises :class:`ScriptRejected`.
"""
from __future__ import annotations

import ast
import functools
import re
from types import CodeType
from typing import Any, Literal, cast

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

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
def _compile(source: object, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    # ``object``: SpiffWorkflow hands over whatever the diagram holds, typed or not.
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


def compiled(source: str, mode: str) -> CodeType:
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

