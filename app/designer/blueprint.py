"""The designer's blueprint (``/designer``) and what its three view modules share: the process pages
(``views.py``), the BPMN modeler (``modeler_views.py``) and the form builder (``form_views.py``)."""
from __future__ import annotations

import re

from flask import Blueprint
from flask_login import current_user

from app.web.nav import add_nav

# cli_group=None: `ptsp export-definitions`, not `ptsp designer export-definitions`.
bp = Blueprint("designer", __name__, url_prefix="/designer", cli_group=None)

add_nav("designer.index", "Perancangan proses", lambda user: user is not None and user.has_role("designer"), order=60)

PROCESS_ID = re.compile(r"^[a-z][a-z0-9_]{1,99}$")


def int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def actor() -> str:
    """Who is recorded as having made a change: the signed-in designer."""
    return str(current_user.username)
