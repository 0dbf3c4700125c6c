"""JSON Schema forms in the browser: schema -> fields to render (the submitted HTML form
goes back to JSON in values.py), and a completed step's data as a read-only list.

Field names are the same paths the validator reports errors on
(``applicant/nik``, ``attachments/0/document_type``), so each error is shown
beside its field. An object with ``reference`` and ``sha256`` properties is an
attachment: it renders as a file input, and the upload is stored by the caller.
Everything works without JavaScript; arrays of objects get one blank row more
than they have, and blank rows are dropped on submit.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.forms.schema import (
    STORED,
    as_text,
    choice_alternatives,
    humanize,
    is_attachment,
    is_choice,
    is_constant,
    options_of,
    resolve,
    type_of,
)
from app.i18n import EMPTY, fmt_date, fmt_number, gettext

_NESTED = " \u203a "  # a single right-pointing angle quote between nested titles


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
            row = gettext("baris {n}", n=int(rest.split("/", 1)[0]) + 1)
            message = f"{row}: {message}"
        placed[target] = f"{placed[target]}; {message}" if target in placed and message not in placed[target] \
            else placed.get(target, message)
    return placed



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
        title = str(schema.get("title") or humanize(path.rsplit("/", 1)[-1]))
        f = Field(path=path, kind="text", title=title, description=str(schema.get("description", "")),
                  required=required, value=value, error=self.errors.get(path))
        kind = type_of(schema)
        if is_attachment(schema):
            f.kind = "attachment"
            described = {k: v for k, v in schema["properties"].items() if k not in STORED}
            f.children = self.children({**schema, "properties": described}, f"{path}/", value or {})
        elif kind == "object":
            f.kind = "object"
            f.children = self.children(schema, f"{path}/", value or {})
        elif kind == "array":
            self._array(f, schema, value)
        elif choice_alternatives(schema) and not all(is_constant(a) for a in choice_alternatives(schema)[1]):  # type: ignore[index]
            self._choice(f, schema, value)
        elif is_choice(schema):
            f.options = options_of(schema)
            f.value = None if value is None else as_text(value)
            f.kind = "radio" if len(f.options) <= 3 else "select"
        elif kind == "boolean":
            f.kind = "checkbox"
        else:
            self._scalar(f, schema, kind)
        return f

    def _array(self, f: Field, schema: Mapping[str, Any], value: Any) -> None:
        items = resolve(schema.get("items", {}), self.root)
        values = value if isinstance(value, list) else []
        if is_choice(items):
            f.kind, f.options, f.value = "multi", options_of(items), [as_text(v) for v in values]
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
        chosen = as_text(value) if value is not None and as_text(value) in constants else None
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




def read_only_items(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The data of a completed step as (label, text) pairs for a compact, read-only list:
    labels are the form's titles (nested ones joined with a separator), choices their option labels."""
    root = schema
    items: list[tuple[str, str]] = []

    def walk(sub: Mapping[str, Any], value: Any, label: str) -> None:
        sub = resolve(sub, root) if sub else {}
        if isinstance(value, Mapping):
            if is_attachment(sub) or ("reference" in value and "sha256" in value):
                described = [str(v) for k, v in value.items() if k not in STORED and v not in (None, "")]
                sha = str(value.get("sha256") or "")
                items.append((label, " · ".join([*described, str(value.get("reference", "")), f"sha256 {sha[:12]}…"])))
                return
            props = sub.get("properties", {})
            for key, item in value.items():
                child = resolve(props.get(key, {}), root) if key in props else {}
                title = str(child.get("title") or humanize(str(key)))
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
    if as_text(value) in labels:
        return labels[as_text(value)]
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            return fmt_date(value)
        except ValueError:
            return value
    return str(value)

