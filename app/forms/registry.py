"""User-task forms: JSON Schemas in forms/, validated on the server."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from app.forms.check import FormBroken, FormProblem, check_form_text
from app.i18n import fmt_number, gettext
from app.schema_validation import Draft202012Validator, FormatChecker

FORM_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")  # a form's file name in forms/


@dataclass(frozen=True)
class FieldError:
    field: str  # a JSON pointer-like path, "" for the whole form
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class FormNotFound(LookupError):
    pass


class FormSource(Protocol):
    """Forms kept outside forms/ (the designer's browser-saved versions, app/forms/builder.py)."""

    def latest(self) -> Mapping[str, tuple[str, str]]:
        """name -> (version key, schema text) of the newest version of each form it holds."""
        ...


class FormRegistry:
    """Loads forms by file name from one folder and validates submissions.

    With ``overrides``, a form saved from the designer wins over forms/<name> (until it is
    exported back there); parsed schemas are cached by file mtime or saved version.
    """

    def __init__(self, forms_dir: Path, overrides: FormSource | None = None) -> None:
        self.forms_dir = forms_dir
        self.overrides = overrides
        self._cache: dict[str, tuple[object, Any, Draft202012Validator | None]] = {}
        self._lock = Lock()

    def names(self) -> set[str]:
        names = {p.name for p in self.forms_dir.glob("*.json")}
        if self.overrides is not None:
            names |= {name for name in self.overrides.latest() if FORM_FILE_NAME.match(name)}
        return names

    def schema(self, name: str) -> dict[str, Any]:
        return self._load(name)[0]

    def validate(self, name: str, data: Any) -> list[FieldError]:
        """Every violation of the form's schema, each with the field it belongs to."""
        _, validator = self._load(name)
        errors = []
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, dict):
                missing = _missing_property(error.message)
                path = f"{path}/{missing}".lstrip("/") if missing else path
            errors.append(FieldError(path, _message(error)))
        return errors

    def problems(self, name: str) -> list[FormProblem]:
        """What the form check (app/forms/check.py) finds in this form; empty when usable."""
        try:
            self._load(name)
        except FormBroken as broken:
            return broken.problems
        return []

    def broken(self) -> dict[str, str]:
        """Every form that fails the check: name -> its problems, in one line."""
        found = {}
        for name in sorted(self.names()):
            problems = self.problems(name)
            if problems:
                whole = gettext("(seluruh formulir)")
                found[name] = "; ".join(f"{p.field or whole}: {p.reason}" for p in problems)
        return found

    def _load(self, name: str) -> tuple[dict[str, Any], Draft202012Validator]:
        """The parsed schema and its validator, cached; :class:`FormBroken` when the form fails
        the check (the failure is cached too, until the file or saved version changes)."""
        if not FORM_FILE_NAME.match(name):
            raise FormNotFound(f"invalid form name {name!r}")
        saved = self.overrides.latest().get(name) if self.overrides is not None else None
        path = self.forms_dir / name
        stamp: object
        if saved is not None:
            stamp = ("saved", saved[0])
        else:
            try:
                stat = path.stat()
            except FileNotFoundError as exc:
                raise FormNotFound(f"form {name!r} does not exist") from exc
            stamp = ("file", stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._cache.get(name)
        if hit and hit[0] == stamp:
            if isinstance(hit[1], FormBroken):
                raise hit[1]
            return hit[1], hit[2]
        try:
            text = saved[1] if saved is not None else path.read_text("utf-8")
        except UnicodeDecodeError as exc:
            text = ""
            problems = [FormProblem(name, "", f"not UTF-8 ({exc.reason} at byte {exc.start})")]
            schema = None
        else:
            schema, problems = check_form_text(name, text)
        if problems or schema is None:
            broken = FormBroken(problems)
            with self._lock:
                self._cache[name] = (stamp, broken, None)
            raise broken
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        with self._lock:
            self._cache[name] = (stamp, schema, validator)
        return schema, validator


def _missing_property(message: str) -> str | None:
    match = re.match(r"^'([^']+)' is a required property", message)
    return match.group(1) if match else None


_DIGITS = re.compile(r"^\^\[0-9\]\{(\d+)(?:,(\d+))?\}\$$")


def _number(value: Any) -> str:
    return fmt_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _message(error: Any) -> str:
    """A short message in the officer's language; the field's title is shown beside it.
    Every keyword the forms use has its own text (issue 9 §4)."""
    kind, limit, instance = error.validator, error.validator_value, error.instance
    if kind in ("required", "dependentRequired"):
        return gettext("wajib diisi")
    if kind == "minItems":
        if limit == 1:
            return gettext("pilih paling sedikit satu") if _has_choices(error) else gettext("isi paling sedikit {n} baris", n=1)
        return gettext("isi paling sedikit {n} baris", n=limit)
    if kind == "maxItems":
        return gettext("harus dikosongkan") if limit == 0 else gettext("paling banyak {n} baris", n=limit)
    if kind == "uniqueItems":
        return gettext("ada isian yang sama lebih dari sekali")
    if kind == "minimum":
        return gettext("paling kecil {n}", n=_number(limit))
    if kind == "maximum":
        return gettext("paling besar {n}", n=_number(limit))
    if kind == "exclusiveMinimum":
        return gettext("harus lebih besar dari {n}", n=_number(limit))
    if kind == "exclusiveMaximum":
        return gettext("harus lebih kecil dari {n}", n=_number(limit))
    if kind == "minLength":
        return gettext("wajib diisi") if limit == 1 and instance == "" else gettext("paling sedikit {n} karakter", n=limit)
    if kind == "maxLength":
        return gettext("paling banyak {n} karakter", n=limit)
    if kind == "pattern":
        return _pattern_message(str(limit))
    if kind == "format":
        if limit == "date":
            return gettext("bukan tanggal yang sah (TTTT-BB-HH)")
        if limit == "email":
            return gettext("bukan alamat surel yang sah")
        return gettext("format tidak sesuai ({format})", format=limit)
    if kind == "enum":
        return gettext("pilih salah satu pilihan yang tersedia")
    if kind == "const":
        if limit is True:
            return gettext("harus dicentang")
        if limit is False:
            return gettext("harus tidak dicentang")
        return gettext("harus bernilai {value}", value=limit)
    if kind in ("oneOf", "anyOf"):
        return _choice_message(error)
    if kind == "type":
        expected = limit[0] if isinstance(limit, list) and limit else limit
        if expected == "number":
            return gettext("harus berupa angka")
        if expected == "integer":
            return gettext("harus berupa bilangan bulat")
        if expected == "string":
            return gettext("harus berupa teks")
        return gettext("jenis isian salah")
    if kind in ("additionalProperties", "unevaluatedProperties"):
        extra = sorted(set(instance) - set(error.schema.get("properties", {}))) if isinstance(instance, dict) else []
        return gettext("isian tidak dikenal: {names}", names=", ".join(map(str, extra)) or "?")
    return gettext("isian tidak sah")


def _has_choices(error: Any) -> bool:
    items = error.schema.get("items") if isinstance(error.schema, dict) else None
    return isinstance(items, dict) and ("enum" in items or "oneOf" in items or "anyOf" in items)


def _pattern_message(pattern: str) -> str:
    match = _DIGITS.match(pattern)
    if match:
        low, high = match.group(1), match.group(2)
        if high is None:
            return gettext("harus {n} digit angka", n=low)
        return gettext("harus {a} sampai {b} digit angka", a=low, b=high)
    if pattern in ("^[0-9]+$", "^\\d+$"):
        return gettext("harus angka saja")
    return gettext("format tidak sesuai (lihat keterangan)")


def _choice_message(error: Any) -> str:
    """oneOf/anyOf: the reason the value fits none of the alternatives its type belongs to
    (e.g. "at most 100" for 150 years), else "choose one of the options"."""
    reasons = [e for e in (error.context or []) if e.validator not in ("type", "const", "enum")
               and not e.relative_path]
    if reasons:
        return _message(reasons[0])
    return gettext("pilih salah satu pilihan yang tersedia")
