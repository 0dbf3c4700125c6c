"""The permit catalogue: the one place for each permit type's published service standard,
file-number prefix, duration in working days and fee rules.

Each container loads and validates its own catalogue once, at start (``container().catalogue``,
see app/container.py). The module-level functions read the catalogue of the current Flask app's
container; outside an app context (a bare ``Container`` in tests, a benchmark) they read the
catalogue of ``PTSP_PROCESSES_DIR``, loaded once on first use without running the worked examples
(those need the diagram scripts' date helpers, which the container gives :func:`load`).
Code that has the container should prefer its ``catalogue`` to these functions.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

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
    "current", "duration_days", "entries", "entry", "fee_breakdown_lines", "file_prefix", "load",
]


def load(processes_dir: Path, forms_dir: Path | None = None, *,
         script_helpers: Mapping[str, Callable[..., Any]], worked_examples: bool = True) -> Catalogue:
    """Load and validate ``processes_dir/catalogue`` against the diagrams (and forms), and (unless
    ``worked_examples`` is false) run every published worked example through the diagram's fee
    scripts with ``script_helpers``: a catalogue that promises another fee than the diagram
    computes is refused."""
    loaded = load_catalogue(processes_dir / "catalogue", processes_dir, forms_dir, script_helpers=script_helpers)
    problems = check_worked_examples(loaded) if worked_examples else []
    if problems:
        raise CatalogueError(problems)
    return loaded


def current() -> Catalogue:
    """The catalogue of the current app's container, else the one of ``PTSP_PROCESSES_DIR``."""
    if has_app_context():
        found: Catalogue = current_app.extensions["ptsp"].catalogue
        return found
    return _outside_an_app()


@functools.cache
def _outside_an_app() -> Catalogue:
    from app.config import Settings

    settings = Settings.from_env()
    return load_catalogue(settings.processes_dir / "catalogue", settings.processes_dir, settings.forms_dir)


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
