"""The navigation bar: each feature adds its own entry when its views are imported."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: str  # Indonesian; translated in the template
    visible: Callable[[Any], bool]
    order: int = 50


_ENTRIES: dict[str, NavEntry] = {}


def add_nav(endpoint: str, label: str, visible: Callable[[Any], bool], order: int = 50) -> None:
    _ENTRIES[endpoint] = NavEntry(endpoint, label, visible, order)


def nav_items() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return [{"url": url_for(e.endpoint), "label": e.label, "active": request.endpoint == e.endpoint}
                for e in sorted(_ENTRIES.values(), key=lambda e: e.order)
                if e.endpoint in current_app.view_functions and e.visible(None)]
    return [{"url": url_for(e.endpoint), "label": e.label, "active": request.endpoint == e.endpoint}
            for e in sorted(_ENTRIES.values(), key=lambda e: e.order)
            if e.endpoint in current_app.view_functions and e.visible(current_user)]
