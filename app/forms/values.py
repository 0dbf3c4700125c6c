"""JSON Schema forms: values in and out. A submitted HTML form becomes the JSON the schema
validates (each input converted by the schema's types; a value that does not convert is kept as
typed, so validation reports it beside its field); a new task form is prefilled from earlier
steps' data; attachments are found in form data.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.schema import (
    STORED,
    as_text,
    choice_alternatives,
    constant_of,
    is_attachment,
    is_choice,
    is_constant,
    resolve,
    type_of,
)
from app.schema_validation import Draft202012Validator, FormatChecker

StoreUpload = Callable[[FileStorage, str], dict[str, Any]]  # (file, path) -> {"reference", "sha256", ...}


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
        described = {k: v for k, v in schema["properties"].items() if k not in STORED}
        details = _parse_object({**schema, "properties": described}, root, f"{path}/", form, files, store)
        upload = files.get(path)
        if upload is not None and upload.filename:
            stored = store(upload, path) if store else {}
        else:  # kept from an earlier upload of the same submission
            stored = {k: form.get(f"{path}/{k}", "").strip() for k in STORED}
            if not stored["reference"]:
                return _MISSING
        return {**details, **{k: v for k, v in stored.items() if k in schema["properties"]}}
    if kind == "object":
        value = _parse_object(schema, root, f"{path}/", form, files, store)
        return value if value else _MISSING
    if kind == "array":
        items = resolve(schema.get("items", {}), root)
        if is_choice(items):
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
    if kind == "boolean" and not is_choice(schema):
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
        if is_constant(alternative) and as_text(constant_of(alternative)) == chosen:
            return constant_of(alternative)
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
        constants += [constant_of(a) for a in choice[1] if is_constant(a)]
    for constant in constants:
        if as_text(constant) == raw:
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


def attachments_in(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, attachment object) of every attachment in form data."""
    if isinstance(value, dict):
        if "reference" in value and "sha256" in value:
            yield path, value
            return
        for key, item in value.items():
            yield from attachments_in(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from attachments_in(item, f"{path}/{index}" if path else str(index))
