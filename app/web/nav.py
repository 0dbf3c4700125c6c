"""The navigation bar: each feature adds its own entry when its views are imported. Entries of a
group (the administrator's pages) sit under one menu, so the bar keeps one line on an office screen."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user

from app.i18n import N_


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: str  # Indonesian; translated in the template
    visible: Callable[[Any], bool]
    order: int = 50
    group: str | None = None  # the menu it sits under (its Indonesian label); None: on the bar itself


ADMIN_MENU = N_("Administrasi")


_ENTRIES: dict[str, NavEntry] = {}


def add_nav(endpoint: str, label: str, visible: Callable[[Any], bool], order: int = 50,
            group: str | None = None) -> None:
    _ENTRIES[endpoint] = NavEntry(endpoint, label, visible, order, group)


def add_admin_page(endpoint: str, label: str, order: int) -> None:
    """An administrator's page, under the administration menu."""
    add_nav(endpoint, label, lambda user: user is not None and user.role == "admin", order, ADMIN_MENU)


def nav_items() -> list[dict[str, Any]]:
    """The bar's items in order, for the signed-in user (or a visitor): each a link (url, label,
    active), or a menu (label, active, children: links) where its first entry would stand."""
    user = current_user if current_user.is_authenticated else None
    items: list[dict[str, Any]] = []
    menus: dict[str, dict[str, Any]] = {}
    for e in sorted(_ENTRIES.values(), key=lambda e: e.order):
        if e.endpoint not in current_app.view_functions or not e.visible(user):
            continue
        link = {"url": url_for(e.endpoint), "label": e.label, "active": request.endpoint == e.endpoint}
        if e.group is None:
            items.append(link)
            continue
        if e.group not in menus:
            menus[e.group] = {"label": e.group, "active": False, "children": []}
            items.append(menus[e.group])
        menus[e.group]["children"].append(link)
        menus[e.group]["active"] |= link["active"]
    return items
