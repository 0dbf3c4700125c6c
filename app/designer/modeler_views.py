"""The designer's BPMN modeler: the page, the diagrams it opens, drafts, validation and deployment."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.lanes import LANES
from app.auth.security import role_required
from app.container import container
from app.db import request_session
from app.designer import services
from app.designer.blueprint import PROCESS_ID, actor, bp, int_or_none
from app.designer.bpmn_texts import BPMN_INDONESIAN
from app.designer.validation import ESCALATION_ROLES, validate_diagram
from app.desk.services import may_view_heat
from app.engine.errors import NotFound
from app.i18n import N_, current_language, gettext, ngettext


# ---------------------------------------------------------------------------
# The modeler
@bp.get("/modeler")
@role_required("designer")
def modeler() -> ResponseReturnValue:
    db = request_session()
    c = container()
    process_id = request.args.get("process", "")
    version = int_or_none(request.args.get("version"))
    draft_id = int_or_none(request.args.get("draft"))
    base_version: int | None = None
    title = process_id
    if not process_id and not draft_id and not request.args.get("name"):
        # The bare address (as the README gives it): choose a process to open or start a new one.
        return render_template("designer/modeler_start.html", processes=services.process_overview(db))
    if draft_id:
        draft = services.get_draft(db, draft_id)
        xml_url = url_for("designer.draft_xml", draft_id=draft.id)
        process_id, base_version = draft.process_id, draft.base_version
        source = gettext("Draf") + f" #{draft.id}"
    elif process_id and (version or not request.args.get("name")):
        definition = (services.get_version(db, process_id, version) if version
                      else services.get_version(db, process_id, _latest_version(process_id)))
        xml_url = url_for("designer.definition_xml", definition_id=definition.id)
        base_version = definition.version
        title = definition.name
        source = gettext("versi {n}", n=definition.version)
    else:
        name = (request.args.get("name") or "").strip()[:200]
        if not PROCESS_ID.match(process_id) or not name:
            flash(gettext("ID proses: huruf kecil, angka dan _ (diawali huruf)."), "error")
            return redirect(url_for("designer.index"))
        if any(s.process_id == process_id and s.versions for s in services.process_overview(db)):
            return redirect(url_for("designer.modeler", process=process_id))  # it exists: edit it
        xml_url = url_for("designer.blank_xml", process=process_id, name=name)
        title, source = name, gettext("Proses baru")
    lang = current_language()
    config = {
        "xmlUrl": xml_url,
        "draftUrl": url_for("designer.save_draft"),
        "validateUrl": url_for("designer.validate"),
        "deployUrl": url_for("designer.deploy"),
        "processUrl": url_for("designer.process", process_id="__ID__"),
        "baseVersion": base_version,
        "processId": process_id,
        "maxBytes": c.settings.max_bpmn_bytes,
        "lanes": [{"key": key, "label": labels[lang]} for key, labels in LANES.items()],
        "escalationRoles": [{"key": key, "label": labels[lang]} for key, labels in LANES.items()]
        + [{"key": role, "label": gettext("manajer")} for role in ESCALATION_ROLES],
        "forms": sorted(c.forms.names()),
        "bpmnTexts": BPMN_INDONESIAN if lang == "id" else {},  # bpmn-js's palette and context pad
        "texts": {key: gettext(key) for key in (
            N_("Diagram siap dipasang."), "Draf disimpan.", N_("Diagram tidak dapat dibuka."), N_("Permintaan gagal"),
            N_("(tidak ada)"), "Pilih tugas pengguna pada diagram untuk mengatur jalur, formulir dan tenggatnya.")},
        "noPool": gettext("Diagram belum memiliki kolam (pool); tambahkan dulu untuk membuat jalur."),
        # The page fills {n}: it gets the English for one problem and for more.
        "problemText": ngettext("{n} masalah ditemukan; perbaiki yang ditandai pada diagram.",
                                "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.", 1, n="{n}"),
        "problemsText": ngettext("{n} masalah ditemukan; perbaiki yang ditandai pada diagram.",
                                 "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.", 2, n="{n}"),
        "deployedText": gettext("Versi {n} dipasang.", n="{n}"),
        "versionText": gettext("versi {n}", n="{n}"),
        "unchangedText": gettext("Tidak ada perubahan; versi {n} tetap yang terbaru.", n="{n}"),
    }
    # The heat map over the diagram: for a deployed procedure, to those who may read the office's figures.
    heat_url = (url_for("desk.heat", process_id=process_id)
                if process_id in c.catalogue.entries and may_view_heat(current_user) else None)
    return render_template("designer/modeler.html", config=config, title=title, source=source,
                           process_id=process_id, heat_url=heat_url)


def _latest_version(process_id: str) -> int:
    summary = next((s for s in services.process_overview(request_session()) if s.process_id == process_id), None)
    if summary is None or not summary.versions:
        raise NotFound(process_id)
    return summary.latest.version


def _xml_response(xml: str, filename: str) -> Response:
    response = Response(xml, mimetype="application/xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/definitions/<int:definition_id>/diagram.bpmn")
@role_required("designer")
def definition_xml(definition_id: int) -> ResponseReturnValue:
    definition = services.get_definition(request_session(), definition_id)
    stem = definition.source_name.removesuffix(".bpmn") if services.SOURCE_NAME.match(definition.source_name) \
        else definition.process_id
    return _xml_response(definition.bpmn_xml, f"{stem}-v{definition.version}.bpmn")


@bp.get("/drafts/<int:draft_id>/diagram.bpmn")
@role_required("designer")
def draft_xml(draft_id: int) -> ResponseReturnValue:
    draft = services.get_draft(request_session(), draft_id)
    return _xml_response(draft.xml, f"{draft.process_id}-draft-{draft.id}.bpmn")


@bp.get("/blank.bpmn")
@role_required("designer")
def blank_xml() -> ResponseReturnValue:
    process_id = request.args.get("process", "")
    if not PROCESS_ID.match(process_id):
        abort(400)
    return _xml_response(services.blank_diagram(process_id, (request.args.get("name") or process_id)[:200]),
                         f"{process_id}.bpmn")


def _posted_xml() -> tuple[bytes, dict[str, Any]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        abort(400)
    return body["xml"].encode("utf-8"), body


@bp.post("/drafts")
@role_required("designer")
def save_draft() -> ResponseReturnValue:
    xml, body = _posted_xml()
    c = container()
    base = body.get("base_version")
    try:
        draft = services.save_draft(request_session(), xml, actor(), c.clock,
                                    base_version=base if isinstance(base, int) else None,
                                    max_bytes=c.settings.max_bpmn_bytes)
    except services.DesignerError as exc:
        return jsonify(ok=False, error=str(exc)), 422
    return jsonify(ok=True, id=draft.id, process_id=draft.process_id,
                   url=url_for("designer.modeler", draft=draft.id), message=gettext("Draf disimpan."))


@bp.post("/validate")
@role_required("designer")
def validate() -> ResponseReturnValue:
    xml, _ = _posted_xml()
    c = container()
    problems = validate_diagram(xml, "diagram.bpmn", known_forms=c.forms.names(), max_bytes=c.settings.max_bpmn_bytes,
                                broken_forms=c.forms.broken())
    return jsonify(ok=not problems, problems=problems)


@bp.post("/deploy")
@role_required("designer")
def deploy() -> ResponseReturnValue:
    xml, _ = _posted_xml()
    c = container()
    db = request_session()
    result = services.deploy_from_designer(db, xml, actor(), c.clock, c.forms, c.settings.max_bpmn_bytes)
    if result.problems:
        db.rollback()
        return jsonify(ok=False, problems=result.problems), 422
    return jsonify(ok=True, problems=[], outcomes=[
        {"process_id": o.process_id, "version": o.version, "created": o.created, "note": o.note,
         "url": url_for("designer.process", process_id=o.process_id)} for o in result.outcomes])
