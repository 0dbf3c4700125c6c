"""The public service catalogue: every permit type's published standard, without signing in."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from app.catalogue.fees import FeeLine, fee_breakdown_lines
from app.catalogue.services import CatalogueEntry, UnknownPermitType, worked_example_results
from app.container import container
from app.db import request_session
from app.engine.definitions import latest_definition
from app.i18n import current_language
from app.web.nav import add_nav

bp = Blueprint("catalogue", __name__)


add_nav("catalogue.index", "Katalog layanan", lambda user: True, order=5)


@bp.app_template_filter("tr")
def translate_text(text: Mapping[str, str] | None) -> str:
    """A catalogue text ({"id": ..., "en": ...}) in the current language."""
    if not text:
        return ""
    return text.get(current_language()) or text.get("id") or ""


@bp.app_template_global("fee_breakdown_lines")
def fee_lines_for_templates(process_id: str, data: Mapping[str, Any]) -> list[FeeLine]:
    """For templates (receipt, SKRD): ``{% set lines = fee_breakdown_lines(process_id, data) %}``
    then ``{% include "catalogue/_fee_lines.html" %}``."""
    return fee_breakdown_lines(container().catalogue, process_id, data)


def _entry(process_id: str) -> CatalogueEntry:
    try:
        return container().catalogue.entry(process_id)
    except UnknownPermitType:
        abort(404)


@bp.get("/catalogue")
def index() -> ResponseReturnValue:
    c = container().catalogue
    return render_template("catalogue/index.html", permits=c.permits(), bundles=c.bundles())


@bp.get("/catalogue/<process_id>")
def show(process_id: str) -> ResponseReturnValue:
    c = container().catalogue
    entry = _entry(process_id)
    examples = [(example, fee_breakdown_lines(c, process_id, data))
                for example, data in worked_example_results(c, process_id)]
    deployed = latest_definition(request_session(), process_id) is not None
    return render_template("catalogue/show.html", entry=entry, members=c.members(process_id) if entry.is_bundle else [],
                           examples=examples, deployed=deployed)


@bp.get("/catalogue/<process_id>/diagram.xml")
def diagram(process_id: str) -> ResponseReturnValue:
    _entry(process_id)
    definition = latest_definition(request_session(), process_id)
    if definition is None:
        abort(404)
    response = Response(definition.bpmn_xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=300"  # a new version may be deployed
    return response
