"""JSON Schema forms in the browser: schema -> fields to render, and a submitted
HTML form -> the JSON the schema validates.

Field names are the same paths the validator reports errors on
(``applicant/nik``, ``attachments/0/document_type``), so each error is shown
beside its field. An object with ``reference`` and ``sha256`` properties is an
attachment: it renders as a file input, and the upload is stored by the caller.
Everything works without JavaScript; arrays of objects get one blank row more
than they have, and blank rows are dropped on submit.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from app.i18n import EMPTY, fmt_date, fmt_number, gettext, register
from app.schema_validation import Draft202012Validator, FormatChecker

register({
    "Terunggah": "Uploaded",
    "Berkas": "File",
    "satu per baris": "one per line",
    "Ya": "Yes",
    "Tidak": "No",
    "Tambah baris": "Add row",
    "Hapus baris": "Remove row",
    "Baris {n}": "Row {n}",
    "Pilih…": "Choose…",
    "baris {n}": "line {n}",
    "Sudah diunggah: {name} (pilih berkas lain untuk menggantinya)":
        "Already uploaded: {name} (choose another file to replace it)",
    "Isian belum benar; periksa kolom berikut:": "Some entries are not right; check these fields:",
})

_NESTED = " \u203a "  # a single right-pointing angle quote between nested titles

StoreUpload = Callable[[FileStorage, str], dict[str, Any]]  # (file, path) -> {"reference", "sha256", ...}


@dataclass
class Field:
    path: str
    kind: str  # object|text|textarea|number|integer|date|email|checkbox|select|radio|choice|multi|lines|rows|attachment
    title: str
    description: str = ""
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # kind "choice" (oneOf/anyOf mixing constants with typed values, e.g. "for as long as the building
    # stands" or a number of years): the typed alternatives, each an input named "<path>/<keyword>/<i>"
    # chosen by the radio value "<keyword>/<i>"; ``options`` are the constants.
    alternatives: list[tuple[str, Field]] = field(default_factory=list)
    template: list[Field] = field(default_factory=list)  # kind "rows": a blank row for the add-row button


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/x``)."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported in forms, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    merged = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return resolve(merged, root)


_STORED = ("reference", "sha256")  # filled by the server from the upload, never typed


def is_attachment(schema: Mapping[str, Any]) -> bool:
    props = schema.get("properties", {})
    return schema.get("type") == "object" and "reference" in props and "sha256" in props


def choice_alternatives(schema: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]] | None:
    """The keyword ("oneOf"/"anyOf") and its alternatives, if the schema is a choice."""
    for keyword in ("oneOf", "anyOf"):
        if isinstance(schema.get(keyword), list) and schema[keyword]:
            return keyword, [a for a in schema[keyword] if isinstance(a, Mapping)]
    return None


def is_constant(alternative: Mapping[str, Any]) -> bool:
    return "const" in alternative or (isinstance(alternative.get("enum"), list) and len(alternative["enum"]) == 1)


def _constant(alternative: Mapping[str, Any]) -> Any:
    return alternative["const"] if "const" in alternative else alternative["enum"][0]


def options_of(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of the constants a field may take: enum, const, or the constant
    alternatives of oneOf/anyOf (labelled by their titles)."""
    choice = choice_alternatives(schema)
    if choice:
        return [(_text(_constant(a)), str(a.get("title") or _humanize(_text(_constant(a)))))
                for a in choice[1] if is_constant(a)]
    if isinstance(schema.get("enum"), list):
        return [(_text(v), _humanize(_text(v))) for v in schema["enum"]]
    if "const" in schema and not isinstance(schema["const"], bool):
        return [(_text(schema["const"]), _humanize(_text(schema["const"])))]
    return []


def _text(value: Any) -> str:
    """A constant as the browser sends it back (JSON booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_choice(schema: Mapping[str, Any]) -> bool:
    return bool(choice_alternatives(schema)) or isinstance(schema.get("enum"), list) or (
        "const" in schema and not isinstance(schema["const"], bool))


def _humanize(value: str) -> str:
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:] if len(text) > 2 else text


def build_fields(schema: Mapping[str, Any], data: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None, *, defaults: bool = True) -> list[Field]:
    """The fields of a form, filled with ``data`` and ``errors`` (path -> message).
    A field without a value shows the schema's ``default`` unless ``defaults`` is false
    (a refused submission is shown as it was sent)."""
    root = schema
    fields = _Builder(root, errors or {}, defaults).children(resolve(schema, root), "", data or {})
    placed = place_errors(errors or {}, field_paths(fields))
    if placed != (errors or {}):
        fields = _Builder(root, placed, defaults).children(resolve(schema, root), "", data or {})
    return fields


def place_errors(errors: Mapping[str, str], shown: set[str]) -> dict[str, str]:
    """Errors moved to the field they belong to: an error on a path no field is shown for
    (e.g. one line of a "one per line" list, ``kbli_codes/0``) goes to its nearest shown ancestor,
    prefixed with its line number. Errors of the whole form ("") stay where they are."""
    placed: dict[str, str] = {}
    for path, message in errors.items():
        target, rest = path, ""
        while target and target not in shown:
            target, _, last = target.rpartition("/")
            rest = f"{last}/{rest}" if rest else last
        if not target:
            target, rest = path, ""
        if rest.split("/", 1)[0].isdigit():
            message = f"{gettext('baris {n}', n=int(rest.split('/', 1)[0]) + 1)}: {message}"
        placed[target] = f"{placed[target]}; {message}" if target in placed and message not in placed[target] \
            else placed.get(target, message)
    return placed


def type_of(schema: Mapping[str, Any]) -> str | None:
    """The schema's type; of a list such as ["string", "null"] the first that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "const" in schema:
        kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(schema["const"]))
    return kind if isinstance(kind, str) else None


class _Builder:
    def __init__(self, root: Mapping[str, Any], errors: Mapping[str, str], defaults: bool) -> None:
        self.root, self.errors, self.defaults = root, errors, defaults

    def children(self, schema: Mapping[str, Any], prefix: str, data: Any) -> list[Field]:
        required = set(schema.get("required", []))
        fields = []
        for name, sub in schema.get("properties", {}).items():
            value = data.get(name) if isinstance(data, Mapping) else None
            fields.append(self.field(resolve(sub, self.root), f"{prefix}{name}", value, name in required))
        return fields

    def field(self, schema: Mapping[str, Any], path: str, value: Any, required: bool) -> Field:
        if value is None and self.defaults and "default" in schema:
            value = schema["default"]
        title = str(schema.get("title") or _humanize(path.rsplit("/", 1)[-1]))
        f = Field(path=path, kind="text", title=title, description=str(schema.get("description", "")),
                  required=required, value=value, error=self.errors.get(path))
        kind = type_of(schema)
        if is_attachment(schema):
            f.kind = "attachment"
            described = {k: v for k, v in schema["properties"].items() if k not in _STORED}
            f.children = self.children({**schema, "properties": described}, f"{path}/", value or {})
        elif kind == "object":
            f.kind = "object"
            f.children = self.children(schema, f"{path}/", value or {})
        elif kind == "array":
            self._array(f, schema, value)
        elif choice_alternatives(schema) and not all(is_constant(a) for a in choice_alternatives(schema)[1]):  # type: ignore[index]
            self._choice(f, schema, value)
        elif _is_choice(schema):
            f.options = options_of(schema)
            f.value = None if value is None else _text(value)
            f.kind = "radio" if len(f.options) <= 3 else "select"
        elif kind == "boolean":
            f.kind = "checkbox"
        else:
            self._scalar(f, schema, kind)
        return f

    def _array(self, f: Field, schema: Mapping[str, Any], value: Any) -> None:
        items = resolve(schema.get("items", {}), self.root)
        values = value if isinstance(value, list) else []
        if _is_choice(items):
            f.kind, f.options, f.value = "multi", options_of(items), [_text(v) for v in values]
        elif type_of(items) == "object":
            f.kind = "rows"
            count = max(len(values) + 1, int(schema.get("minItems", 0) or 0), 1)
            if schema.get("maxItems") is not None:
                count = max(min(count, int(schema["maxItems"])), len(values))
            f.rows = [[self.field(items, f"{f.path}/{i}", values[i] if i < len(values) else None, True)]
                      for i in range(count)]
            blank = _Builder(self.root, {}, self.defaults)
            f.template = [blank.field(items, f"{f.path}/__index__", None, True)]
            for key, attr in (("minItems", "data-min-items"), ("maxItems", "data-max-items")):
                if key in schema:
                    f.attrs[attr] = schema[key]
        else:
            f.kind, f.value = "lines", "\n".join(str(v) for v in values)

    def _choice(self, f: Field, schema: Mapping[str, Any], value: Any) -> None:
        keyword, alternatives = choice_alternatives(schema)  # type: ignore[misc]
        f.kind, f.options = "choice", options_of(schema)
        constants = {o[0] for o in f.options}
        chosen = _text(value) if value is not None and _text(value) in constants else None
        for index, alternative in enumerate(alternatives):
            if is_constant(alternative):
                continue
            alternative = resolve(alternative, self.root)
            key = f"{keyword}/{index}"
            fits = value is not None and chosen is None and _fits(alternative, value)
            sub = self.field(alternative, f"{f.path}/{key}", value if fits else None, False)
            sub.title = str(alternative.get("title") or sub.title)
            if fits:
                chosen = key
            f.alternatives.append((key, sub))
        f.value = chosen

    def _scalar(self, f: Field, schema: Mapping[str, Any], kind: str | None) -> None:
        if kind in ("number", "integer"):
            f.kind = kind
            for key, attr in (("minimum", "min"), ("maximum", "max")):
                if key in schema:
                    f.attrs[attr] = schema[key]
            f.attrs["step"] = "1" if kind == "integer" else "any"
        elif schema.get("format") == "date":
            f.kind = "date"
        elif schema.get("format") == "email":
            f.kind = "email"
        elif int(schema.get("maxLength", 0) or 0) > 300:
            f.kind = "textarea"
        if kind in ("string", None):
            for key, attr in (("maxLength", "maxlength"), ("minLength", "minlength")):
                if key in schema:
                    f.attrs[attr] = schema[key]


def _fits(schema: Mapping[str, Any], value: Any) -> bool:
    """Whether a value has the type of a typed alternative (to show which one a value came from)."""
    kind = type_of(schema)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.strip() != "")
    if kind == "number":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or isinstance(value, str)
    return isinstance(value, str) if kind == "string" else value is not None


def error_items(fields: list[Field], trail: str = "") -> list[tuple[str, str, str]]:
    """(element id, field title, message) of every field with an error, in form order, for the
    error summary above a refused form (nested titles joined as in the read-only lists)."""
    items: list[tuple[str, str, str]] = []
    for f in fields:
        title = f"{trail}{_NESTED}{f.title}" if trail else f.title
        if f.error:
            items.append((f"field-{f.path}", title, f.error))
        items += error_items(f.children, title)
        for index, row in enumerate(f.rows, start=1):
            items += error_items(row, f"{title} {index}")
    return items


def field_paths(fields: list[Field]) -> set[str]:
    """Every path a field is shown for (errors on other paths belong to the whole form)."""
    found: set[str] = set()
    for f in fields:
        found.add(f.path)
        found |= field_paths(f.children)
        for row in f.rows:
            found |= field_paths(row)
    return found


# ---------------------------------------------------------------------------
PREFILL_KEYWORD = "x-prefill-from"  # an annotation: paths in earlier steps' data that give this field's value


def prefill(schema: Mapping[str, Any], earlier: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Values the office already has, for a task form shown for the first time: each field takes
    the newest value found in ``earlier`` (the intake's and earlier steps' data, oldest first) at
    the paths its ``x-prefill-from`` annotation lists, if that value is valid for the field
    (only named sources: a repeated step is not prefilled with its own earlier answers, which
    the officer must give again). A list of documents (e.g. the missing ones) fills document rows."""
    root = schema
    newest_first = [d for d in reversed(earlier) if isinstance(d, Mapping)]

    def lookup(path: str) -> Any:
        for data in newest_first:
            node: Any = data
            for part in path.split("/"):
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is not None:
                return node
        return None

    def fill(sub: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child in sub.get("properties", {}).items():
            child = resolve(child, root)
            path = f"{prefix}{name}"
            if type_of(child) == "object" and not is_attachment(child):
                nested = fill(child, f"{path}/")
                if nested:
                    out[name] = nested
                continue
            sources = child.get(PREFILL_KEYWORD) or []
            for source in sources if isinstance(sources, list) else [sources]:
                value = _prefill_value(child, lookup(str(source)), root)
                if value is not None:
                    out[name] = value
                    break
        return out

    return fill(resolve(schema, root), "")


def _prefill_value(schema: Mapping[str, Any], value: Any, root: Mapping[str, Any]) -> Any:
    if value is None or is_attachment(schema):
        return None
    items = resolve(schema.get("items", {}), root) if type_of(schema) == "array" else {}
    if is_attachment(items) and isinstance(value, list):  # document codes -> one row per document
        kinds = items.get("properties", {}).get("document_type", {}).get("enum", [])
        rows = [{"document_type": v} for v in value if isinstance(v, str) and v in kinds]
        return rows or None
    check = {**schema, "$defs": root.get("$defs", {})} if "$defs" in root else schema
    return value if Draft202012Validator(check, format_checker=FormatChecker()).is_valid(value) else None


# ---------------------------------------------------------------------------
def parse_submission(schema: Mapping[str, Any], form: MultiDict[str, str],
                     files: MultiDict[str, FileStorage] | None = None,
                     store_upload: StoreUpload | None = None) -> dict[str, Any]:
    """Turn a submitted HTML form into the JSON object the schema describes.

    Values are converted by the schema's types; a value that does not convert is
    kept as typed, so validation reports it beside its field. Empty inputs are
    left out, so "required" errors name the empty field.
    """
    root = schema
    return _parse_object(resolve(schema, root), root, "", form, files or MultiDict(), store_upload)


def _parse_object(schema: Mapping[str, Any], root: Mapping[str, Any], prefix: str, form: MultiDict[str, str],
                  files: MultiDict[str, FileStorage], store: StoreUpload | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        sub = resolve(sub, root)
        value = _parse_value(sub, root, f"{prefix}{name}", form, files, store)
        if value is _MISSING and name in required and type_of(sub) == "object" and not is_attachment(sub):
            value = {}  # an empty required group: each of its required fields is reported beside itself
        if value is not _MISSING:
            out[name] = value
    return out


_MISSING = object()


def _parse_value(schema: Mapping[str, Any], root: Mapping[str, Any], path: str, form: MultiDict[str, str],
                 files: MultiDict[str, FileStorage], store: StoreUpload | None) -> Any:
    kind = type_of(schema)
    if is_attachment(schema):
        described = {k: v for k, v in schema["properties"].items() if k not in _STORED}
        details = _parse_object({**schema, "properties": described}, root, f"{path}/", form, files, store)
        upload = files.get(path)
        if upload is not None and upload.filename:
            stored = store(upload, path) if store else {}
        else:  # kept from an earlier upload of the same submission
            stored = {k: form.get(f"{path}/{k}", "").strip() for k in _STORED}
            if not stored["reference"]:
                return _MISSING
        return {**details, **{k: v for k, v in stored.items() if k in schema["properties"]}}
    if kind == "object":
        value = _parse_object(schema, root, f"{path}/", form, files, store)
        return value if value else _MISSING
    if kind == "array":
        items = resolve(schema.get("items", {}), root)
        if _is_choice(items):
            return [_convert(items, v) for v in form.getlist(path) if v != ""]
        if type_of(items) == "object":
            rows = []
            for index in _row_indexes(path, form, files):
                row = _parse_value(items, root, f"{path}/{index}", form, files, store)
                if row is not _MISSING and row != {}:
                    rows.append(row)
            return rows
        lines = [line.strip() for line in form.get(path, "").splitlines() if line.strip()]
        return [_convert(items, v) for v in lines]
    choice = choice_alternatives(schema)
    if choice and not all(is_constant(a) for a in choice[1]):
        return _parse_choice(schema, root, path, form, files, store)
    if kind == "boolean" and not _is_choice(schema):
        return form.get(path) in ("on", "true", "1")
    raw = form.get(path)
    if raw is None or raw.strip() == "":
        return _MISSING
    return _convert(schema, raw.strip())


def _parse_choice(schema: Mapping[str, Any], root: Mapping[str, Any], path: str, form: MultiDict[str, str],
                  files: MultiDict[str, FileStorage], store: StoreUpload | None) -> Any:
    """A oneOf/anyOf of constants and typed values: the radio names a constant or ``<keyword>/<i>``,
    whose input holds the value. A value typed without choosing its radio counts as chosen."""
    keyword, alternatives = choice_alternatives(schema)  # type: ignore[misc]
    chosen = (form.get(path) or "").strip()
    for alternative in alternatives:
        if is_constant(alternative) and _text(_constant(alternative)) == chosen:
            return _constant(alternative)
    typed = [(f"{keyword}/{i}", a) for i, a in enumerate(alternatives) if not is_constant(a)]
    if not chosen:
        filled = [(k, a) for k, a in typed if (form.get(f"{path}/{k}") or "").strip()]
        if len(filled) != 1:
            return _MISSING
        chosen = filled[0][0]
    for key, alternative in typed:
        if key == chosen:
            return _parse_value(resolve(alternative, root), root, f"{path}/{key}", form, files, store)
    return _convert(schema, chosen)  # a value sent as such (e.g. "5"); one that fits nothing is reported


def _row_indexes(path: str, form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> list[int]:
    prefix = f"{path}/"
    found = set()
    for key in list(form.keys()) + list(files.keys()):
        if key.startswith(prefix):
            head = key[len(prefix):].split("/", 1)[0]
            if head.isdigit() and len(head) < 4:
                found.add(int(head))
    return sorted(found)


def _convert(schema: Mapping[str, Any], raw: str) -> Any:
    """A submitted string as the schema's value: a constant it names (enum, const, oneOf/anyOf),
    else converted by type; a string that does not convert is kept, so validation reports it."""
    constants = list(schema.get("enum") or []) if isinstance(schema.get("enum"), list) else []
    if "const" in schema:
        constants.append(schema["const"])
    choice = choice_alternatives(schema)
    if choice:
        constants += [_constant(a) for a in choice[1] if is_constant(a)]
    for constant in constants:
        if _text(constant) == raw:
            return constant
    if choice:
        for alternative in choice[1]:
            if not is_constant(alternative):
                converted = _convert(alternative, raw)
                if converted is not raw:
                    return converted
        return raw
    kind = type_of(schema)
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw.replace(",", "."))
            if not math.isfinite(number):
                return raw
            return int(number) if number.is_integer() and "." not in raw and "," not in raw else number
        if kind == "boolean" and raw in ("true", "false"):
            return raw == "true"
    except ValueError:
        return raw
    return raw




def read_only_items(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The data of a completed step as (label, text) pairs for a compact, read-only list:
    labels are the form's titles (nested ones joined with a separator), choices their option labels."""
    root = schema
    items: list[tuple[str, str]] = []

    def walk(sub: Mapping[str, Any], value: Any, label: str) -> None:
        sub = resolve(sub, root) if sub else {}
        if isinstance(value, Mapping):
            if is_attachment(sub) or ("reference" in value and "sha256" in value):
                described = [str(v) for k, v in value.items() if k not in _STORED and v not in (None, "")]
                sha = str(value.get("sha256") or "")
                items.append((label, " · ".join([*described, str(value.get("reference", "")), f"sha256 {sha[:12]}…"])))
                return
            props = sub.get("properties", {})
            for key, item in value.items():
                child = resolve(props.get(key, {}), root) if key in props else {}
                title = str(child.get("title") or _humanize(str(key)))
                walk(child, item, f"{label}{_NESTED}{title}" if label else title)
        elif isinstance(value, list):
            items_schema = resolve(sub.get("items", {}), root) if sub.get("items") else {}
            if all(not isinstance(v, (Mapping, list)) for v in value):
                items.append((label, ", ".join(_scalar_text(items_schema, v) for v in value) or EMPTY))
            else:
                for index, item in enumerate(value, start=1):
                    walk(items_schema, item, f"{label} {index}")
        else:
            items.append((label, _scalar_text(sub, value)))

    walk(schema, data, "")
    return items


def _scalar_text(schema: Mapping[str, Any], value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return gettext("Ya") if value else gettext("Tidak")
    labels = dict(options_of(schema))
    if _text(value) in labels:
        return labels[_text(value)]
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            return fmt_date(value)
        except ValueError:
            return value
    return str(value)
