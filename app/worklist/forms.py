"""User-task forms: JSON Schemas in forms/, validated on the server."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from app.schema_validation import Draft202012Validator, FormatChecker

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")


@dataclass(frozen=True)
class FieldError:
    field: str  # a JSON pointer-like path, "" for the whole form
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class FormNotFound(LookupError):
    pass


class FormSource(Protocol):
    """Forms kept outside forms/ (the designer's browser-saved versions, app/designer/forms.py)."""

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
        self._cache: dict[str, tuple[object, dict[str, Any], Draft202012Validator]] = {}
        self._lock = Lock()

    def names(self) -> set[str]:
        names = {p.name for p in self.forms_dir.glob("*.json")}
        if self.overrides is not None:
            names |= {name for name in self.overrides.latest() if _SAFE_NAME.match(name)}
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

    def _load(self, name: str) -> tuple[dict[str, Any], Draft202012Validator]:
        if not _SAFE_NAME.match(name):
            raise FormNotFound(f"invalid form name {name!r}")
        saved = self.overrides.latest().get(name) if self.overrides is not None else None
        path = self.forms_dir / name
        stamp: object
        if saved is not None:
            stamp = ("saved", saved[0])
        else:
            try:
                stamp = ("file", path.stat().st_mtime)
            except FileNotFoundError as exc:
                raise FormNotFound(f"form {name!r} does not exist") from exc
        with self._lock:
            hit = self._cache.get(name)
            if hit and hit[0] == stamp:
                return hit[1], hit[2]
        schema = json.loads(saved[1] if saved is not None else path.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        with self._lock:
            self._cache[name] = (stamp, schema, validator)
        return schema, validator


def _missing_property(message: str) -> str | None:
    match = re.match(r"^'([^']+)' is a required property", message)
    return match.group(1) if match else None


def _message(error: Any) -> str:
    """A short message; the field's title is shown by the interface beside it."""
    kind = error.validator
    if kind == "required":
        return "wajib diisi (required)"
    if kind == "pattern":
        return f"format tidak sesuai (does not match {error.validator_value})"
    if kind == "enum":
        return "pilihan tidak dikenal (must be one of: " + ", ".join(map(str, error.validator_value)) + ")"
    if kind == "type":
        return f"jenis isian salah (must be {error.validator_value})"
    if kind == "additionalProperties":
        return f"isian tidak dikenal (unexpected field): {error.message}"
    return error.message
