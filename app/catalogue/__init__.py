"""The permit catalogue: the one place for each permit type's published service standard,
file-number prefix, duration in working days and fee rules.

Module-level functions read the catalogue the running service loaded (``Container`` loads and
validates it from ``PTSP_PROCESSES_DIR/catalogue`` at start); outside a container the project's
own ``processes/catalogue`` is loaded on first use.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from threading import Lock
from typing import Any

from app.catalogue.fees import FeeLine
from app.catalogue.fees import fee_breakdown_lines as _fee_breakdown_lines
from app.catalogue.services import (
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    Requirement,
    UnknownPermitType,
    check_worked_examples,
    load_catalogue,
)

__all__ = [
    "Catalogue", "CatalogueEntry", "CatalogueError", "FeeLine", "Requirement", "UnknownPermitType",
    "current", "duration_days", "entries", "entry", "fee_breakdown_lines", "file_prefix", "install", "load",
]

_current: Catalogue | None = None
_lock = Lock()


def load(processes_dir: Path, forms_dir: Path | None = None) -> Catalogue:
    """Load and validate ``processes_dir/catalogue`` against the diagrams (and forms), and run every
    published worked example through the diagram's fee scripts: a catalogue that promises another
    fee than the diagram computes is refused."""
    loaded = load_catalogue(processes_dir / "catalogue", processes_dir, forms_dir)
    problems = check_worked_examples(loaded)
    if problems:
        raise CatalogueError(problems)
    return loaded


def install(catalogue: Catalogue) -> None:
    """Make ``catalogue`` the one the module-level functions read."""
    global _current
    with _lock:
        _current = catalogue


def current() -> Catalogue:
    global _current
    with _lock:
        if _current is None:
            from app.config import Settings

            settings = Settings.from_env()
            _current = load(settings.processes_dir, settings.forms_dir)
        return _current


def entry(process_id: str) -> CatalogueEntry:
    """The catalogue entry of ``process_id``; raises :class:`UnknownPermitType`."""
    return current().entry(process_id)


def entries() -> list[CatalogueEntry]:
    """Every entry: the permits first, then the bundles."""
    c = current()
    return c.permits() + c.bundles()


def duration_days(process_id: str, default: int | None = None) -> int:
    """The published duration (working days) of ``process_id``: the legal limit of its files."""
    found = current().get(process_id)
    if found is not None:
        return found.working_days
    if default is None:
        raise UnknownPermitType(process_id)
    return default


def file_prefix(process_id: str, default: str | None = None) -> str:
    """The file-number prefix of ``process_id`` (e.g. ``HO`` in ``HO-2026-000001``)."""
    found = current().get(process_id)
    if found is not None:
        return found.file_prefix
    if default is None:
        raise UnknownPermitType(process_id)
    return default


def fee_breakdown_lines(process_id: str, data: Mapping[str, Any], lang: str | None = None) -> list[FeeLine]:
    """How the fee of a file was computed, line by line, for the fee notice and the receipt."""
    return _fee_breakdown_lines(current(), process_id, data, lang)
