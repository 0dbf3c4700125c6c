"""JSON Schema forms edited in the browser.

forms/*.json in the repository are the source of truth for releases. A designer
saves a form as a new row of ``form_version``; the newest version of a name is
what officers get (``FormRegistry`` asks :class:`DatabaseForms` first) until
``ptsp export-definitions`` writes it back to forms/<name>.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit.services import record
from app.clock import Clock
from app.db import Database
from app.forms.check import check_form_text
from app.forms.models import FormVersion
from app.forms.registry import FORM_FILE_NAME, FormNotFound, FormRegistry
from app.forms.render import Field, build_fields
from app.i18n import gettext
from app.schema_validation import SchemaError

log = logging.getLogger(__name__)

FORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,95}\.json$")  # names of new forms


class FormInvalid(Exception):
    """A schema text that cannot be saved; ``errors`` are messages for the designer."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


# ---------------------------------------------------------------------------
# The database as a FormSource of the FormRegistry.
class DatabaseForms:
    """The newest saved version of each form, re-read at most every ``refresh_seconds``
    (and at once in this process after :meth:`invalidate`, which the save view calls after
    committing). Other processes see a saved form within ``refresh_seconds``."""

    def __init__(self, db: Database, refresh_seconds: float = 5.0) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._snapshot: dict[str, tuple[str, str]] | None = None
        self._loaded_at = 0.0
        self._lock = Lock()

    def latest(self) -> Mapping[str, tuple[str, str]]:
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._loaded_at < self.refresh_seconds:
                return self._snapshot
        try:
            with self.db.sessions() as session:
                snapshot = {row.name: (str(row.id), row.schema_text) for row in session.scalars(_newest_versions())}
        except DBAPIError:
            # A database not migrated yet (e.g. while `ptsp migrate` starts): the files still serve.
            log.warning("saved forms could not be read; serving forms/ only", exc_info=True)
            return self._snapshot or {}
        with self._lock:
            self._snapshot = snapshot
            self._loaded_at = time.monotonic()
        return snapshot

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None


def _newest_versions() -> Select[FormVersion]:
    """The newest version row of each saved form."""
    newest = (select(FormVersion.name, func.max(FormVersion.version).label("v"))
              .group_by(FormVersion.name).subquery("newest"))
    return select(FormVersion).join(newest, (FormVersion.name == newest.c.name) & (FormVersion.version == newest.c.v))


# ---------------------------------------------------------------------------
# Services.
@dataclass(frozen=True)
class FormInfo:
    name: str
    title: str
    in_repository: bool  # forms/<name> exists
    saved_version: int | None  # newest browser-saved version, if any
    saved_by: str | None
    saved_at: datetime | None


def list_forms(session: Session, registry: FormRegistry) -> list[FormInfo]:
    """Every form officers can get, with where its current text comes from."""
    files = {p.name for p in registry.forms_dir.glob("*.json")}
    newest = {row.name: row for row in session.scalars(_newest_versions())}
    infos = []
    for name in sorted(files | set(newest)):
        saved = newest.get(name)
        try:
            title = str(registry.schema(name).get("title") or "")
        except (FormNotFound, ValueError, SchemaError):
            title = ""
        infos.append(FormInfo(name, title, name in files, saved.version if saved else None,
                              saved.saved_by if saved else None, saved.saved_at if saved else None))
    return infos


def form_text(session: Session, registry: FormRegistry, name: str) -> str:
    """The current text of a form: its newest saved version, else forms/<name>."""
    saved = newest_version(session, name)
    if saved is not None:
        return saved.schema_text
    path = registry.forms_dir / name
    if not FORM_FILE_NAME.match(name) or not path.is_file():
        raise FormNotFound(f"form {name!r} does not exist")
    return path.read_text("utf-8")


def newest_version(session: Session, name: str) -> FormVersion | None:
    return session.scalars(select(FormVersion).where(FormVersion.name == name)
                           .order_by(FormVersion.version.desc()).limit(1)).first()


def checked_form(text: str, name: str = "") -> tuple[dict[str, Any], list[Field]]:
    """The schema and the fields officers would see; :class:`FormInvalid` says clearly what is
    wrong (the one form check, app/forms/check.py, field by field)."""
    schema, problems = check_form_text(name, text)
    if problems or schema is None:
        raise FormInvalid([f"{p.field}: {p.reason}" if p.field else p.reason for p in problems])
    return schema, build_fields(schema)


def save_form(session: Session, registry: FormRegistry, name: str, text: str, actor: str, clock: Clock,
              *, new: bool = False) -> FormVersion:
    """Store ``text`` as the next version of form ``name`` (flushes; the caller commits,
    then calls ``invalidate()`` on the registry's source). ``new`` refuses an existing name."""
    if not FORM_NAME.match(name):
        raise FormInvalid([gettext(
            "Nama formulir harus huruf kecil, angka, _ . - dan berakhiran .json (misalnya pbg_survey.json).")])
    previous = newest_version(session, name)
    if new and (previous is not None or (registry.forms_dir / name).exists()):
        raise FormInvalid([gettext("Formulir {name} sudah ada.", name=name)])
    checked_form(text, name)
    if not text.endswith("\n"):
        text += "\n"
    row = FormVersion(name=name, version=(previous.version + 1) if previous else 1, schema_text=text,
                      saved_by=actor, saved_at=clock.now())
    session.add(row)
    session.flush()
    record(session, actor, "form.saved", ("form", name), {
        "version": row.version, "created": previous is None and not (registry.forms_dir / name).exists()},
        clock=clock)
    return row
