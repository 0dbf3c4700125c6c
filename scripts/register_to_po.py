"""Move the English of ``register({...})`` / ``register_singular({...})`` calls into the .po catalogue.

    python scripts/register_to_po.py [--dry-run]

Re-runnable: on a tree where new ``register()`` calls appeared (other branches merged), it
converts those and leaves everything converted before as it is. It

1. finds every ``register({...})`` and ``register_singular({...})`` of ``app.i18n`` in app/**.py
   (with ``ast``): a dict literal, or the name of a module-level dict literal;
2. merges their pairs into app/translations/en/LC_MESSAGES/messages.po, keeping the entries it
   has (a different English for a text already there is a conflict, reported with file:line;
   the catalogue's English is kept). ``register_singular`` gives a text its English for one
   (msgstr[0]) beside the English of ``register`` (msgstr[1]);
3. removes those calls from the source, and the imports of ``register`` they leave unused;
   a ``NAME = {...}`` handed to ``register(NAME)`` becomes a tuple of its texts, marked ``N_``;
4. rewrites ``gettext("...", n=x)`` / ``_("...", n=x)`` of a counted text (register_singular)
   into ``ngettext("...", "...", x)`` in Python and templates, so extraction sees its plural;
5. marks with ``N_()`` the string literals of registered texts that extraction does not find
   (texts defined away from their ``_()`` call: labels in lists and dicts);
6. extracts, updates and compiles the catalogue as ``make i18n`` does, and prints a report:
   pairs converted, conflicts, texts still without English, registered texts not used.

Exit status 0 when nothing needs a person; 1 when something in the report does.
"""
from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent  # the tree converted (--root; tests convert a small one)
APP = ROOT / "app"
CATALOGUE = APP / "translations" / "en" / "LC_MESSAGES"


def use_root(root: Path) -> None:
    global ROOT, APP, CATALOGUE  # a script's settings, set once from its arguments
    ROOT = root.resolve()
    APP = ROOT / "app"
    CATALOGUE = APP / "translations" / "en" / "LC_MESSAGES"
REGISTER = {"register", "register_singular"}
GAP = b"\x00removed\n"  # stands where a statement was removed until blank lines are closed up
GETTEXT = {"_", "gettext"}
MARKERS = {"_", "gettext", "ngettext", "N_"}


@dataclass
class Pair:
    msgid: str
    english: str
    where: str  # file:line
    one: bool  # from register_singular: the English for n == 1


@dataclass
class Edit:
    start: int  # byte offsets into the file
    end: int
    text: bytes


@dataclass
class Module:
    path: Path
    source: bytes
    tree: ast.Module
    edits: list[Edit] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # byte offset of each line's start
    import_names: set[str] = field(default_factory=set)  # to import from app.i18n
    unimport_names: set[str] = field(default_factory=set)  # to import no longer

    def __post_init__(self) -> None:
        offset = 0
        for line in self.source.splitlines(keepends=True):
            self.lines.append(offset)
            offset += len(line)
        self.lines.append(offset)

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))

    def offset(self, lineno: int, col: int) -> int:
        return self.lines[lineno - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.offset(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def apply(self) -> bytes:
        edits = [*self.edits, *_import_edits(self)]
        if not edits:
            return self.source
        out = self.source
        for edit in sorted(edits, key=lambda e: e.start, reverse=True):
            out = out[:edit.start] + edit.text + out[edit.end:]
        return _close_gaps(out)


@dataclass
class Report:
    calls: int = 0
    pairs: int = 0
    added: int = 0
    already: int = 0
    conflicts: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    without_english: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)

    def needs_a_person(self) -> bool:
        return bool(self.conflicts or self.by_hand or self.without_english)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project's directory (default: this one)")
    args = parser.parse_args(argv)
    use_root(args.root)
    started = time.perf_counter()
    report = convert(write=not args.dry_run)
    print_report(report, time.perf_counter() - started, dry_run=args.dry_run)
    return 1 if report.needs_a_person() else 0


def convert(*, write: bool) -> Report:
    report = Report()
    modules = [_parse(path) for path in sorted(APP.rglob("*.py"))]
    pairs: list[Pair] = []
    for module in modules:
        pairs += _take_registrations(module, report)
    report.pairs = len(pairs)
    counted = {p.msgid for p in pairs if p.one}
    sources = {module.path: module.apply() for module in modules}
    templates = {path: path.read_bytes() for path in sorted((APP / "templates").rglob("*.html"))}
    _count_calls(sources, templates, counted, report)
    registered = {p.msgid for p in pairs}
    sources = _mark_unextracted(sources, templates, registered, report)
    changed = []
    for path, text in [*sources.items(), *templates.items()]:
        if text != path.read_bytes():
            report.files.add(str(path.relative_to(ROOT)))
            changed.append(path)
            if write:
                path.write_bytes(text)
    if write:
        note = _sort_imports([p for p in changed if p.suffix == ".py"])
        if note:
            report.by_hand.append(note)
    catalogue = _read_catalogue()
    _merge(catalogue, pairs, report)
    template = _extract(sources, templates)
    catalogue.update(template, no_fuzzy_matching=True)
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    report.unused = sorted({p.msgid for p in pairs} - extracted)
    for message in catalogue:
        if message.id and not all(_forms(message.string)):
            report.without_english.append(_first(message.id))
    if write:
        _write_catalogue(catalogue)
    return report


# -- 1. and 3.: registrations and their removal ------------------------------------------

def _parse(path: Path) -> Module:
    source = path.read_bytes()
    return Module(path, source, ast.parse(source, str(path)))


def _i18n_names(module: Module) -> dict[str, str]:
    """Local name -> name in app.i18n of the register functions the module imports (or defines)."""
    if module.path == APP / "i18n.py":
        return {name: name for name in REGISTER}
    names = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.module == "app.i18n":
            for alias in node.names:
                if alias.name in REGISTER:
                    names[alias.asname or alias.name] = alias.name
    return names


def _take_registrations(module: Module, report: Report) -> list[Pair]:
    names = _i18n_names(module)
    if not names:
        return []
    pairs: list[Pair] = []
    removed: set[ast.AST] = set()
    literals = _module_dicts(module.tree)
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
            continue
        where = f"{module.name}:{node.lineno}"
        one = names[node.func.id] == "register_singular"
        statement = _statement_of(module.tree, node)
        argument = node.args[0] if len(node.args) == 1 and not node.keywords else None
        assignment = None
        if isinstance(argument, ast.Name) and argument.id in literals:
            assignment = literals[argument.id]
            argument = assignment.value
        found = _literal_pairs(argument, _module_strings(module.tree))
        if found is None or statement is None or not _whole_lines(module, statement):
            report.by_hand.append(f"{where}: {module.text(node)[:70]}... is not a literal register call; convert it by hand")
            continue
        pairs += [Pair(msgid, english, f"{module.name}:{line}", one) for msgid, english, line in found]
        module.edits.append(_delete_lines(module, statement))
        if assignment is not None:
            module.edits.append(_as_marked_tuple(module, assignment))
        removed.add(node)
        report.calls += 1
    if removed:
        _drop_unused_imports(module, names, removed)
    return pairs


def _module_dicts(tree: ast.Module) -> dict[str, ast.Assign | ast.AnnAssign]:
    found: dict[str, ast.Assign | ast.AnnAssign] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Dict):
            found[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(node.value, ast.Dict):
            found[node.target.id] = node
    return found


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """``NAME = "teks"`` at module level: a key of a register dict may name one."""
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _literal_pairs(node: ast.AST | None, constants: dict[str, str]) -> list[tuple[str, str, int]] | None:
    if not isinstance(node, ast.Dict):
        return None
    pairs = []
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Name) and key.id in constants:
            text = constants[key.id]
        elif isinstance(key, ast.Constant) and isinstance(key.value, str):
            text = key.value
        else:
            return None
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return None
        pairs.append((text, value.value, key.lineno))
    return pairs


def _statement_of(tree: ast.Module, call: ast.Call) -> ast.Expr | None:
    for node in ast.walk(tree):
        for body in (getattr(node, "body", None), getattr(node, "orelse", None), getattr(node, "finalbody", None)):
            if isinstance(body, list):
                for statement in body:
                    if isinstance(statement, ast.Expr) and statement.value is call:
                        return statement if len(body) > 1 else None  # a body of only this call needs a `pass`
    return None


def _whole_lines(module: Module, statement: ast.stmt) -> bool:
    start, end = module.span(statement)
    before = module.source[module.lines[statement.lineno - 1]:start]
    after = module.source[end:module.lines[statement.end_lineno]]  # type: ignore[index]
    return not before.strip() and (not after.strip() or after.strip().startswith(b"#"))


def _delete_lines(module: Module, statement: ast.stmt) -> Edit:
    """Remove the statement's lines, leaving a mark where the blank lines around may need closing up."""
    return Edit(module.lines[statement.lineno - 1], module.lines[statement.end_lineno], GAP)  # type: ignore[index]


def _as_marked_tuple(module: Module, assignment: ast.Assign | ast.AnnAssign) -> Edit:
    """``NAME = {"teks": "text", ...}`` -> ``NAME = (N_("teks"), ...)``: the texts stay, their English moves."""
    mapping = assignment.value
    assert isinstance(mapping, ast.Dict)
    indent = " " * (assignment.col_offset + 4)
    keys = "".join(f"{indent}N_({module.text(key)}),\n" for key in mapping.keys if key is not None)
    target = assignment.targets[0] if isinstance(assignment, ast.Assign) else assignment.target
    annotation = ": tuple[str, ...]" if isinstance(assignment, ast.AnnAssign) else ""
    start, end = module.span(assignment)
    _need_marker(module)
    return Edit(start, end, f"{module.text(target)}{annotation} = (\n{keys}{' ' * assignment.col_offset})".encode())


def _drop_unused_imports(module: Module, names: dict[str, str], removed: set[ast.AST]) -> None:
    removed_funcs = {id(getattr(call, "func", None)) for call in removed}
    still_used = {node.id for node in ast.walk(module.tree)
                  if isinstance(node, ast.Name) and node.id in names and id(node) not in removed_funcs}
    module.unimport_names.update(set(names) - still_used)


def _import_edits(module: Module) -> list[Edit]:
    """The ``from app.i18n import ...`` lines with the names the other edits need and no longer need."""
    if not (module.import_names or module.unimport_names) or module.path == APP / "i18n.py":
        return []
    edits = []
    adding = set(module.import_names)
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.ImportFrom) and node.module == "app.i18n"):
            continue
        present = {a.asname or a.name for a in node.names}
        names = [a for a in node.names if (a.asname or a.name) not in module.unimport_names]
        if node.col_offset == 0 and adding:
            names += [ast.alias(name=name) for name in sorted(adding - present)]
            adding = set()
        if [a.name for a in names] == [a.name for a in node.names]:
            continue
        start, end = module.lines[node.lineno - 1], module.lines[node.end_lineno]  # type: ignore[index]
        listed = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in sorted(names, key=_isort_key))
        edits.append(Edit(start, end, f"{' ' * node.col_offset}from app.i18n import {listed}\n".encode() if names else GAP))
    if adding:  # no module-level import of app.i18n yet: one among the first-party imports, in order
        first_party = [n for n in module.tree.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("app")]
        later = [n for n in first_party if (n.module or "") > "app.i18n"]
        line = f"from app.i18n import {', '.join(sorted(adding, key=lambda n: _isort_key(ast.alias(name=n))))}\n"
        if later:
            at = module.lines[later[0].lineno - 1]
        elif first_party:
            at = module.lines[first_party[-1].end_lineno]  # type: ignore[index]
        else:
            imports = [n for n in module.tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            at = module.lines[imports[-1].end_lineno] if imports else 0  # type: ignore[index]
            line = "\n" + line
        edits.append(Edit(at, at, line.encode()))
    return edits


def _isort_key(alias: ast.alias) -> tuple[int, str]:
    name = alias.name  # isort's order by type: CONSTANTS, Classes, functions
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def _need_marker(module: Module) -> None:
    module.import_names.add("N_")


# -- 4.: counted texts call ngettext ------------------------------------------------------

def _count_calls(sources: dict[Path, bytes], templates: dict[Path, bytes], counted: set[str], report: Report) -> None:
    if not counted:
        return
    for path, source in list(sources.items()):
        module = Module(path, source, ast.parse(source))
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in counted):
                continue
            n = next((k for k in node.keywords if k.arg == "n"), None)
            if n is None or len(node.args) != 1:
                report.by_hand.append(f"{module.name}:{node.lineno}: a counted text called without n=...; use ngettext")
                continue
            text = module.text(node.args[0])
            rest = "".join(f", {module.text(k)}" for k in node.keywords if k is not n)
            start, end = module.span(node)
            module.edits.append(Edit(start, end, f"ngettext({text}, {text}, {module.text(n.value)}{rest})".encode()))
            report.counted.append(f"{module.name}:{node.lineno}")
            _need_ngettext(module)
        sources[path] = module.apply()
    for path, html in templates.items():
        text = html.decode()
        for msgid in counted:
            quoted = "|".join(re.escape(q + msgid + q) for q in "\"'")
            call = re.compile(rf"\b(?:_|gettext)\(\s*({quoted})\s*,\s*n=")
            for match in call.finditer(text):
                report.counted.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}")
            text = call.sub(lambda m: f"ngettext({m.group(1)}, {m.group(1)}, ", text)
        templates[path] = text.encode()


def _need_ngettext(module: Module) -> None:
    module.import_names.add("ngettext")


# -- 5.: texts defined away from their _() call -------------------------------------------

def _mark_unextracted(sources: dict[Path, bytes], templates: dict[Path, bytes], registered: set[str],
                      report: Report) -> dict[Path, bytes]:
    extracted = {_first(m.id) for m in _extract(sources, templates) if m.id}
    wanted = registered - extracted
    if not wanted:
        return sources
    marked = dict(sources)
    for path, source in sources.items():
        module = Module(path, source, ast.parse(source))
        for node in _plain_strings(module.tree):
            if node.value in wanted:
                start, end = module.span(node)
                module.edits.append(Edit(start, end, f"N_({module.text(node)})".encode()))
                report.marked.append(f"{module.name}:{node.lineno}: {node.value[:50]}")
        if module.edits:
            _need_marker(module)
            marked[path] = module.apply()
            ast.parse(marked[path])  # a marker never breaks the module
    return marked


def _plain_strings(tree: ast.Module) -> Iterator[ast.Constant]:
    """String literals where ``N_(...)`` may stand: not docstrings, annotations, f-strings, patterns or marked ones."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS:
            skip.update(id(a) for a in node.args)
        for part in _unmarkable(node):
            skip.update(id(n) for n in ast.walk(part))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node


def _unmarkable(node: ast.AST) -> Iterable[ast.AST]:
    if isinstance(node, ast.JoinedStr | ast.match_case):
        yield node
    if isinstance(node, ast.AnnAssign):
        yield node.annotation
    if isinstance(node, ast.arg) and node.annotation is not None:
        yield node.annotation
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        yield node.returns


# -- 2. and 6.: the catalogue ---------------------------------------------------------------

def _read_catalogue() -> Catalog:
    with (CATALOGUE / "messages.po").open("rb") as po:
        return read_po(po, locale="en")


def _merge(catalogue: Catalog, pairs: list[Pair], report: Report) -> None:
    english: dict[str, Pair] = {}
    one: dict[str, Pair] = {}
    for pair in pairs:
        chosen = one if pair.one else english
        if pair.msgid in chosen and chosen[pair.msgid].english != pair.english:
            first = chosen[pair.msgid]
            report.conflicts.append(f"{pair.msgid!r}: {first.english!r} ({first.where}) vs {pair.english!r} ({pair.where})")
            continue
        chosen[pair.msgid] = pair
    for msgid, pair in english.items():
        wanted: str | tuple[str, str] = pair.english
        if msgid in one:
            wanted = (one[msgid].english, pair.english)
        present = catalogue.get(msgid)
        if present is not None and any(_forms(present.string)):
            if _forms(present.string) != _forms(wanted):
                report.conflicts.append(f"{msgid!r}: catalogue has {present.string!r}, {pair.where} says {wanted!r} "
                                        "(catalogue kept)")
            else:
                report.already += 1
            continue
        if present is not None:
            del catalogue[msgid]
        ids: str | tuple[str, str] = (msgid, msgid) if isinstance(wanted, tuple) else msgid
        catalogue[msgid] = Message(ids, wanted, locations=present.locations if present is not None else ())
        report.added += 1
    for msgid, pair in one.items():
        if msgid not in english:
            report.conflicts.append(f"{msgid!r}: English for one at {pair.where} but none for more (register it)")


def _forms(string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's English as a tuple of forms (one for a plain text; one and more for a counted one)."""
    if isinstance(string, tuple | list):
        return tuple(form or "" for form in string)
    return (string or "",)


def _first(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _extract(sources: dict[Path, bytes], templates: dict[Path, bytes]) -> Catalog:
    """The template `make i18n` extracts (pybabel extract -F babel.cfg --sort-output --add-location=file app),
    from the given texts of the files rather than the disk."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="PTSP", version="0.1.0", creation_date=datetime.now(UTC))
    contents = {**sources, **templates}
    from babel.messages import extract as babel_extract

    real_open = babel_extract.open if hasattr(babel_extract, "open") else open

    def open_from_memory(name: str, mode: str = "r", *args: object, **kwargs: object) -> object:
        path = Path(name).resolve()
        if path in contents and "b" in mode:
            return BytesIO(contents[path])
        return real_open(name, mode, *args, **kwargs)  # type: ignore[call-overload]

    babel_extract.open = open_from_memory  # type: ignore[attr-defined]
    try:
        for filename, lineno, message, comments, context in extract_from_dir(
                str(APP), method_map, options_map, keywords=DEFAULT_KEYWORDS):
            template.add(message, None, [(f"app/{filename}", lineno)], auto_comments=comments, context=context)
    finally:
        del babel_extract.open  # type: ignore[attr-defined]
    return template


def _write_catalogue(catalogue: Catalog) -> None:
    """The .po as `make i18n` writes it, and its .mo; untouched when only the extraction date would change."""
    text = BytesIO()
    write_po(text, catalogue, include_lineno=False, sort_output=True)
    path = CATALOGUE / "messages.po"
    if _undated(text.getvalue()) == _undated(path.read_bytes()) and (CATALOGUE / "messages.mo").exists():
        return
    path.write_bytes(text.getvalue())
    with (CATALOGUE / "messages.po").open("rb") as po:
        written = read_po(po, locale="en")  # compile what the file says, as pybabel compile would
    with (CATALOGUE / "messages.mo").open("wb") as mo:
        write_mo(mo, written)


def _undated(po: bytes) -> bytes:
    return re.sub(rb'"POT-Creation-Date: [^"]*"\n', b"", po)


def _close_gaps(source: bytes) -> bytes:
    """Where a statement was removed, no more than two blank lines in a row (the rest of the file as it was)."""
    lines = source.split(b"\n")
    i = 0
    while i < len(lines):
        if lines[i] != GAP.rstrip(b"\n"):
            i += 1
            continue
        del lines[i]
        before = next((k for k in range(i) if lines[i - 1 - k].strip()), i)
        after = next((k for k in range(len(lines) - i) if lines[i + k].strip()), len(lines) - i)
        excess = before + after - (2 if i - before > 0 else 0)
        while excess > 0 and after > 0:
            del lines[i]
            after, excess = after - 1, excess - 1
        while excess > 0 and before > 0:
            del lines[i - 1]
            i, before, excess = i - 1, before - 1, excess - 1
    return b"\n".join(lines)


def _sort_imports(paths: list[Path]) -> str:
    """ruff's isort rules on the files changed (imports were rewritten); a note when ruff is not installed."""
    ruff = Path(sys.executable).with_name("ruff")
    if not paths:
        return ""
    if not ruff.exists():
        return "ruff not found: run `ruff check --select I --fix` on the files changed"
    command = [str(ruff), "check", "--quiet", "--select", "I", "--fix", *map(str, paths)]
    subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603 (the venv's ruff on our own files)
    return ""


def print_report(report: Report, seconds: float, *, dry_run: bool) -> None:
    say = print
    say(f"register_to_po: {report.calls} register calls converted, {report.pairs} pairs "
        f"({report.added} added to the catalogue, {report.already} already there) in {seconds:.1f} s"
        + (" (dry run: nothing written)" if dry_run else ""))
    say(f"  catalogue: {CATALOGUE.relative_to(ROOT)}/messages.po (+ .mo); files changed: {len(report.files)}")
    sections = [
        ("conflicts (the first English is kept)", report.conflicts),
        ("to convert by hand", report.by_hand),
        ("marked N_ (texts defined away from their _() call)", report.marked),
        ("counted texts now calling ngettext", report.counted),
        ("registered texts found nowhere in app/ (kept as obsolete #~ entries)", report.unused),
        ("texts still without English (write their msgstr)", report.without_english),
    ]
    for title, items in sections:
        say(f"  {title}: {len(items)}")
        for item in items:
            say(f"    {item}")


if __name__ == "__main__":
    sys.exit(main())
