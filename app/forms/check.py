"""The one form check (issue 9 §1): may this form file be given to officers?

A form is refused, with its file, field and reason, when it is not valid JSON, not a valid
JSON Schema (draft 2020-12, with patterns Python can compile and local ``$ref`` only), cannot
be rendered, or has a required field the browser cannot fill (a required name with no
property, a choice without options, a number whose minimum is above its maximum, ...).

Used at start-up (``ptsp deploy`` in ``make run``, and the supervisor), by ``ptsp deploy``
and the designer's deploy (a user task whose form fails is not ready), by the designer's
"Periksa", by the form editor's save, by the task page (a broken form is a clear message, not a
500) and by ``/healthz``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.forms.render import build_fields
from app.forms.schema import choice_alternatives, is_constant, options_of, type_of
from app.i18n import N_, gettext
from app.schema_validation import Draft202012Validator

MAX_FORM_SCHEMA_BYTES = 256 * 1024


@dataclass(frozen=True)
class FormProblem:
    form: str  # the file name, e.g. pbg_payment.json
    field: str  # the field path (applicant/nik), "" for the whole form
    reason: str

    def __str__(self) -> str:
        field = self.field or gettext("(seluruh formulir)")  # outside the f-string, where extraction sees it
        return f"{self.form}: {field}: {self.reason}"


class FormBroken(ValueError):
    """A form file that failed the check; ``problems`` say where and why."""

    def __init__(self, problems: list[FormProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def check_form_text(name: str, text: str) -> tuple[dict[str, Any] | None, list[FormProblem]]:
    """(the schema, every problem); the schema is None when the text is not a JSON object."""
    size = len(text.encode("utf-8"))
    if size > MAX_FORM_SCHEMA_BYTES:
        return None, [FormProblem(name, "", gettext("Skema terlalu besar ({size} bita; batasnya {limit}).",
                                                     size=size, limit=MAX_FORM_SCHEMA_BYTES))]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [FormProblem(name, "", gettext("JSON tidak valid pada baris {line}, kolom {column}: {reason}",
                                                    line=exc.lineno, column=exc.colno, reason=exc.msg))]
    except RecursionError:
        return None, [FormProblem(name, "", gettext("Formulir tidak dapat ditampilkan: {reason}",
                                                    reason="nested too deeply"))]
    return schema, check_form_schema(name, schema)


def check_form_schema(name: str, schema: Any) -> list[FormProblem]:
    """Every problem of a parsed schema; empty when officers can fill the form."""
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return [FormProblem(name, "", gettext(
            "Skema harus berupa objek JSON dengan \"type\": \"object\" dan \"properties\"."))]
    problems = []
    for error in sorted(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema),
                        key=lambda e: list(map(str, e.absolute_path))):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        problems.append(FormProblem(name, _field_of(list(error.absolute_path)), gettext(
            "Skema JSON tidak sah di {where}: {reason}", where=where, reason=error.message)))
    if problems:
        return problems
    for path, pattern in _patterns(schema, []):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(FormProblem(name, _field_of(path), gettext(
                "pola (pattern) bukan ekspresi reguler yang sah: {reason}", reason=str(exc))))
    problems += _Fillable(name, schema).object(schema, "")
    if problems:
        return problems
    try:
        build_fields(schema)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        problems.append(FormProblem(name, "", gettext("Formulir tidak dapat ditampilkan: {reason}",
                                                      reason=str(exc) or type(exc).__name__)))
    return problems


def _field_of(schema_path: list[Any]) -> str:
    """The field path a place in the schema belongs to (properties/a/properties/b -> a/b)."""
    parts = []
    for i, part in enumerate(schema_path):
        if i > 0 and schema_path[i - 1] == "properties":
            parts.append(str(part))
    return "/".join(parts)


def _patterns(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str) and not (path and path[-1] == "properties"):
                yield path, value
            else:
                yield from _patterns(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _patterns(value, [*path, index])


class _Fillable:
    """Required fields the browser form (app/forms/render.py) cannot give a value."""

    def __init__(self, name: str, root: Mapping[str, Any]) -> None:
        self.name, self.root = name, root

    def resolve(self, schema: Any, path: str) -> Mapping[str, Any] | FormProblem:
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = schema["$ref"]
            node: Any = self.root
            try:
                if not isinstance(ref, str) or not ref.startswith("#/") or seen > 20:
                    raise KeyError(ref)
                for part in ref[2:].split("/"):
                    node = node[part]
            except (KeyError, TypeError, IndexError):
                return FormProblem(self.name, path, gettext(
                    "$ref \"{ref}\" tidak dapat diikuti (hanya rujukan lokal #/... yang ada)", ref=ref))
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema if isinstance(schema, Mapping) else {}

    def object(self, schema: Mapping[str, Any], prefix: str) -> list[FormProblem]:
        problems: list[FormProblem] = []
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        for missing in sorted(required - set(properties)):
            problems.append(FormProblem(self.name, f"{prefix}{missing}", gettext(
                "wajib diisi tetapi tidak ada di \"properties\", jadi tidak dapat diisi di peramban")))
        for key, sub in properties.items():
            path = f"{prefix}{key}"
            resolved = self.resolve(sub, path)
            if isinstance(resolved, FormProblem):
                problems.append(resolved)
                continue
            problems += self.field(resolved, path, key in required)
        return problems

    def field(self, schema: Mapping[str, Any], path: str, required: bool) -> list[FormProblem]:
        def refuse(text: str, **values: Any) -> list[FormProblem]:
            return [FormProblem(self.name, path, gettext(text, **values))] if required else []

        kind = type_of(schema)
        if kind == "object":
            return self.object(schema, f"{path}/") if required else []
        if kind == "array":
            items = self.resolve(schema.get("items", {}), path)
            if isinstance(items, FormProblem):
                return [items]
            needed = required and int(schema.get("minItems", 0) or 0) > 0
            if type_of(items) == "array":
                return refuse(N_("wajib diisi tetapi daftar bertingkat tidak dapat diisi di peramban")) if needed else []
            if type_of(items) == "object":
                return self.object(items, f"{path}/0/") if needed else []
            if needed and ("enum" in items or choice_alternatives(items)) and not options_of(items):
                return refuse(N_("wajib diisi tetapi tidak punya pilihan"))
            return []
        for keyword in ("allOf", "not"):
            if keyword in schema:
                return refuse(N_("wajib diisi tetapi {keyword} tidak didukung formulir peramban"), keyword=keyword)
        choice = choice_alternatives(schema)
        if choice is not None:
            typed = [self.resolve(a, path) for a in choice[1] if not is_constant(a)]
            usable = [a for a in typed if isinstance(a, Mapping) and type_of(a) in ("string", "integer", "number", None)]
            if not options_of(schema) and not usable:
                return refuse(N_("wajib diisi tetapi tidak punya pilihan"))
            return []
        if "enum" in schema:
            values = schema["enum"] or []
            if not values:
                return refuse(N_("wajib diisi tetapi tidak punya pilihan"))
            if kind and not any(Draft202012Validator({"type": kind}).is_valid(v) for v in values):
                return refuse(N_("wajib diisi tetapi pilihannya tidak sesuai jenisnya ({kind})"), kind=kind)
            return []
        if kind == "null":
            return refuse(N_("wajib diisi tetapi jenis \"{kind}\" tidak dapat diisi di peramban"), kind=kind)
        if kind in ("number", "integer"):
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            high = schema.get("maximum", schema.get("exclusiveMaximum"))
            if isinstance(low, (int, float)) and isinstance(high, (int, float)) and (
                    low > high or (low == high and ("exclusiveMinimum" in schema or "exclusiveMaximum" in schema))):
                return refuse(N_("wajib diisi tetapi minimum {low} lebih besar dari maksimum {high}"), low=low, high=high)
        if kind == "string":
            low, high = schema.get("minLength"), schema.get("maxLength")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                return refuse(N_("wajib diisi tetapi minLength {low} lebih besar dari maxLength {high}"), low=low, high=high)
        return []
