"""Who may import whom inside ``app/`` (docs/architecture.md draws the result).

The graph is read from the source with :mod:`ast` (nothing is imported), and it counts every
import statement: module level, inside functions and under ``if TYPE_CHECKING:`` alike, since an
import moved into a function still ties the two packages together.

* A *room* is a package of ``app/`` (``app.engine``, ``app.sla``, ...) or one of its top-level
  modules (``app.i18n``, ``app.clock``, ...).
* The *entry layer* wires the rooms together and may import any of them: the app factory
  (``app/__init__.py``), ``app/container.py`` (the composition root), the CLI, ``app/web`` and
  ``app/api``, and every room's ``views.py`` / ``*_views.py`` / ``blueprint.py`` / ``commands.py``
  (HTTP and CLI boundaries). Nothing outside the entry layer imports it: a room that needs a part of the
  container takes it as an argument (or a small Protocol of its own).
* Between the other modules, rooms import each other one way only: no cycle, direct or transitive,
  and only downwards through the rows of ``LAYERS`` (the drawing in docs/architecture.md).
* The foundation modules import no room; only ``app.engine`` imports SpiffWorkflow and
  RestrictedPython; ``app/`` never imports ``workers/``.

And modules a reader can hold: no module under ``app/`` or ``workers/`` is over
``MAX_MODULE_LINES`` lines.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

ENTRY_ROOMS = {"app", "app.container", "app.cli", "app.wsgi", "app.supervisor", "app.models", "app.web", "app.api"}
# A room's HTTP and CLI boundaries: views.py, list_views.py, <concern>_views.py, commands.py, and the
# blueprint.py that a room's several view modules share.
ENTRY_MODULE_NAMES = {"views", "commands", "blueprint"}
# Under every room: small modules that import no room.
FOUNDATION = {"app.chain", "app.clock", "app.config", "app.db", "app.errors", "app.i18n", "app.logging_setup", "app.migrate",
              "app.parts", "app.publisher", "app.ratelimit", "app.schema_validation", "app.sla_states"}
# The rows of docs/architecture.md, highest first: a room imports only rooms of lower rows.
LAYERS = [
    {"app.ops"},
    {"app.desk", "app.public", "app.designer"},
    {"app.worklist", "app.sla", "app.evidence", "app.complaints"},
    {"app.permits", "app.notify", "app.privacy", "app.skm"},
    {"app.files"},
    {"app.catalogue"},
    {"app.forms"},
    {"app.engine", "app.auth", "app.audit"},
    FOUNDATION,
]


@dataclass(frozen=True)
class Import:
    source: str  # importing module, e.g. app.files.intake
    target: str  # imported module, e.g. app.sla.calendar
    where: str  # app/files/intake.py:44


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def is_entry(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return room_of(module) in ENTRY_ROOMS or name in ENTRY_MODULE_NAMES or name.endswith("_views")


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    source = module_name(path, root)
    package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from app import catalogue` imports the module app.catalogue
            targets = [f"{module}.{alias.name}" for alias in node.names] if module == "app" else [module]
        else:
            continue
        where = f"{path.relative_to(root)}:{node.lineno}"
        found += [Import(source, target, where) for target in targets]
    return found


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(imp for path in sorted(APP.rglob("*.py")) for imp in imports_of(path))


def room_graph(skip: set[tuple[str, str]] = frozenset()) -> dict[str, dict[str, list[str]]]:  # type: ignore[assignment]
    """room -> imported room -> where, for imports between two rooms outside the entry layer."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for imp in all_imports():
        if not imp.target.startswith("app.") or is_entry(imp.source) or is_entry(imp.target):
            continue
        a, b = room_of(imp.source), room_of(imp.target)
        if a != b and (a, b) not in skip:
            graph[a][b].append(imp.where)
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """A shortest cycle through each room of each strongly connected group (Tarjan, then BFS)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)

    found: list[list[str]] = []
    for group in groups:
        for start in sorted(group):
            cycle = _shortest_cycle(graph, group, start)
            if not any(set(cycle) == set(seen) for seen in found):
                found.append(cycle)
    return found


def _shortest_cycle(graph: dict[str, dict[str, list[str]]], group: set[str], start: str) -> list[str]:
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                return paths[v] + [start]
            if w in group and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"{start} is in a cycle group but on no cycle")


def describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    steps = [f"  {a} -> {b}  ({', '.join(graph[a][b][:3])})" for a, b in pairwise(cycle)]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_no_package_cycles() -> None:
    graph = room_graph()
    found = cycles(graph)
    assert not found, "package cycles in app/:\n" + "\n".join(describe(graph, c) for c in found)


def test_rooms_import_only_lower_rows() -> None:
    row = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
    graph = room_graph()
    unplaced = sorted({r for a in graph for r in (a, *graph[a])} - row.keys())
    assert unplaced == [], "add these rooms to LAYERS (and docs/architecture.md)"
    upward = [f"{a} -> {b} ({', '.join(graph[a][b][:3])})" for a in sorted(graph) for b in sorted(graph[a])
              if row[b] <= row[a] and not (a in FOUNDATION and b in FOUNDATION)]
    assert upward == []


def test_only_the_entry_layer_imports_the_container_views_and_cli() -> None:
    offenders = [f"{imp.where}: {imp.target}" for imp in all_imports()
                 if imp.target.startswith("app") and is_entry(imp.target) and not is_entry(imp.source)]
    assert offenders == []


def test_only_the_engine_imports_spiffworkflow_and_restrictedpython() -> None:
    offenders = [f"{imp.where}: {imp.target}" for imp in all_imports()
                 if imp.target.split(".")[0] in ("SpiffWorkflow", "RestrictedPython") and room_of(imp.source) != "app.engine"]
    assert offenders == []


def test_app_never_imports_workers() -> None:
    offenders = [f"{imp.where}: {imp.target}" for imp in all_imports() if imp.target.split(".")[0] == "workers"]
    assert offenders == []


def test_the_foundation_modules_import_no_room() -> None:
    """The foundation modules sit under every room."""
    offenders = [f"{imp.where}: {imp.target}" for imp in all_imports()
                 if room_of(imp.source) in FOUNDATION and imp.target.startswith("app.")
                 and room_of(imp.target) not in FOUNDATION]
    assert offenders == []


MAX_MODULE_LINES = 500


def module_lines() -> dict[str, int]:
    """Lines of every module under app/ and workers/, by path relative to the repository."""
    paths = sorted([*APP.rglob("*.py"), *(ROOT / "workers").rglob("*.py")])
    return {path.relative_to(ROOT).as_posix(): len(path.read_text("utf-8").splitlines()) for path in paths}


def test_no_module_over_500_lines() -> None:
    lines = module_lines()
    assert len(lines) > 100 and "app/__init__.py" in lines and "workers/tasks.py" in lines  # the files were found
    too_long = {path: n for path, n in lines.items() if n > MAX_MODULE_LINES}
    assert too_long == {}, f"split these modules (at most {MAX_MODULE_LINES} lines each): {too_long}"


def test_the_graph_reader_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "app" / "files" / "thing.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from app import catalogue\n"
        "from .models import File\n"
        "if TYPE_CHECKING:\n"
        "    from app.container import Container\n"
        "def later():\n"
        "    import app.sla.calendar\n")
    assert [(i.target, i.where) for i in imports_of(module, tmp_path)] == [
        ("typing", "app/files/thing.py:1"), ("app.catalogue", "app/files/thing.py:2"),
        ("app.files.models", "app/files/thing.py:3"), ("app.container", "app/files/thing.py:5"),
        ("app.sla.calendar", "app/files/thing.py:7")]


def test_a_cycle_is_named_room_by_room() -> None:
    graph = {"a": {"b": ["x:1"]}, "b": {"c": ["y:2"]}, "c": {"a": ["z:3"]}, "d": {"a": ["w:4"]}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert describe(graph, ["a", "b", "c", "a"]).splitlines()[0] == "a -> b -> c -> a"


def is_http_boundary(path: Path) -> bool:
    """A views module (``views.py``, ``list_views.py``, ``*_views.py``) or any module that makes or
    fills a blueprint."""
    if path.stem == "views" or path.stem.endswith("_views"):
        return True
    text = path.read_text()
    return "Blueprint(" in text or "@bp." in text


def commit_calls(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}" for line in commit_lines(path)]


def commit_lines(path: Path) -> list[int]:
    """The lines where ``path`` calls ``commit(...)`` or ``<anything>.commit(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "commit":
                found.append(node.lineno)
    return found


def test_views_never_commit() -> None:
    """The request is the transaction (app/db.py ``finish_request``): a view that commits splits it.
    A streamed answer commits through ``commit_before_streaming()``, a refusal that is its own record
    through ``keep_on_error()``."""
    boundaries = [path for path in sorted(APP.rglob("*.py")) if is_http_boundary(path)]
    assert len(boundaries) >= 17  # every room's views
    offenders = [where for path in boundaries for where in commit_calls(path)]
    assert offenders == []


def test_the_commit_check_sees_commits(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text("def a(db):\n    db.commit()\n\ndef b():\n    commit()\n\ndef c(db):\n    db.flush()\n")
    assert commit_lines(module) == [2, 5]


QUERY_CALLS = {"select", "scalars", "scalar", "execute", "query"}


def query_lines(path: Path) -> list[int]:
    """The lines where ``path`` builds or runs SQL itself (``select(...)``, ``session.scalars(...)``, ...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in QUERY_CALLS:
                found.append(node.lineno)
    return found


def test_views_read_through_their_services() -> None:
    """Views parse the request and call services; the SQL is in the room's services/queries."""
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in sorted(APP.rglob("*.py"))
                 if is_http_boundary(path) for line in query_lines(path)]
    assert offenders == []
