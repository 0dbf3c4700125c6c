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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from app.i18n import EMPTY, fmt_date, fmt_number, gettext, register

register({
    "Terunggah": "Uploaded",
    "Berkas": "File",
    "satu per baris": "one per line",
    "Ya": "Yes",
    "Tidak": "No",
})

StoreUpload = Callable[[FileStorage, str], dict[str, Any]]  # (file, path) -> {"reference", "sha256", ...}


@dataclass
class Field:
    path: str
    kind: str  # object|text|textarea|number|integer|date|email|checkbox|select|radio|multi|lines|rows|attachment
    title: str
    description: str = ""
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


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


def _options(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    if "oneOf" in schema and all("const" in o for o in schema["oneOf"]):
        return [(str(o["const"]), str(o.get("title", o["const"]))) for o in schema["oneOf"]]
    return [(str(v), _humanize(str(v))) for v in schema.get("enum", [])]


def _humanize(value: str) -> str:
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:] if len(text) > 2 else text


def build_fields(schema: Mapping[str, Any], data: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None) -> list[Field]:
    """The fields of a form, filled with ``data`` and ``errors`` (path -> message)."""
    root = schema
    return _object_children(resolve(schema, root), root, "", data or {}, errors or {})


def _object_children(schema: Mapping[str, Any], root: Mapping[str, Any], prefix: str, data: Mapping[str, Any],
                     errors: Mapping[str, str]) -> list[Field]:
    required = set(schema.get("required", []))
    fields = []
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        value = data.get(name) if isinstance(data, Mapping) else None
        fields.append(_field(resolve(sub, root), root, path, value, name in required, errors))
    return fields


def _field(schema: Mapping[str, Any], root: Mapping[str, Any], path: str, value: Any, required: bool,
           errors: Mapping[str, str]) -> Field:
    title = str(schema.get("title") or _humanize(path.rsplit("/", 1)[-1]))
    f = Field(path=path, kind="text", title=title, description=str(schema.get("description", "")),
              required=required, value=value, error=errors.get(path))
    kind = schema.get("type")
    if is_attachment(schema):
        f.kind = "attachment"
        described = {k: v for k, v in schema["properties"].items() if k not in _STORED}
        f.children = _object_children({**schema, "properties": described}, root, f"{path}/", value or {}, errors)
    elif kind == "object":
        f.kind = "object"
        f.children = _object_children(schema, root, f"{path}/", value or {}, errors)
    elif kind == "array":
        items = resolve(schema.get("items", {}), root)
        values = value if isinstance(value, list) else []
        if "enum" in items or "oneOf" in items:
            f.kind, f.options, f.value = "multi", _options(items), [str(v) for v in values]
        elif items.get("type") == "object":
            f.kind = "rows"
            count = max(len(values) + 1, int(schema.get("minItems", 0)), 1)
            f.rows = [[_field(items, root, f"{path}/{i}", values[i] if i < len(values) else None, True, errors)]
                      for i in range(count)]
        else:
            f.kind, f.value = "lines", "\n".join(str(v) for v in values)
    elif "enum" in schema or "oneOf" in schema:
        f.options = _options(schema)
        f.kind = "radio" if len(f.options) <= 3 else "select"
    elif kind == "boolean":
        f.kind = "checkbox"
    elif kind in ("number", "integer"):
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
    if kind == "string":
        for key, attr in (("maxLength", "maxlength"), ("minLength", "minlength")):
            if key in schema:
                f.attrs[attr] = schema[key]
    return f


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
    for name, sub in schema.get("properties", {}).items():
        value = _parse_value(resolve(sub, root), root, f"{prefix}{name}", form, files, store)
        if value is not _MISSING:
            out[name] = value
    return out


_MISSING = object()


def _parse_value(schema: Mapping[str, Any], root: Mapping[str, Any], path: str, form: MultiDict[str, str],
                 files: MultiDict[str, FileStorage], store: StoreUpload | None) -> Any:
    kind = schema.get("type")
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
        if "enum" in items or "oneOf" in items:
            return [_convert(items, v) for v in form.getlist(path)]
        if items.get("type") == "object":
            rows = []
            for index in _row_indexes(path, form, files):
                row = _parse_value(items, root, f"{path}/{index}", form, files, store)
                if row is not _MISSING and row != {}:
                    rows.append(row)
            return rows
        lines = [line.strip() for line in form.get(path, "").splitlines() if line.strip()]
        return [_convert(items, v) for v in lines]
    if kind == "boolean":
        return form.get(path) in ("on", "true", "1")
    raw = form.get(path)
    if raw is None or raw.strip() == "":
        return _MISSING
    return _convert(schema, raw.strip())


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
    kind = schema.get("type")
    if kind is None and "oneOf" in schema:  # e.g. "selama_bangunan_berdiri" or a number of years
        for alternative in schema["oneOf"]:
            if "const" in alternative and str(alternative["const"]) == raw:
                return alternative["const"]
        for alternative in schema["oneOf"]:
            converted = _convert(alternative, raw)
            if converted is not raw:
                return converted
        return raw
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw.replace(",", "."))
            return int(number) if number.is_integer() and "." not in raw and "," not in raw else number
    except ValueError:
        return raw
    return raw


# ---------------------------------------------------------------------------
_NESTED = " \u203a "  # a single right-pointing angle quote between nested titles


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
    labels = dict(_options(schema))
    if str(value) in labels:
        return labels[str(value)]
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            return fmt_date(value)
        except ValueError:
            return value
    return str(value)
