"""Administrators' page of the evidence: the integrity checks, the signed anchors, the office certificate."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from app.audit.models import ChainHead
from app.auth.security import permission_required
from app.chain import AUDIT_CHAIN
from app.container import container
from app.db import request_session
from app.evidence.anchors import anchor_dir, list_anchors
from app.evidence.keys import office_identity
from app.evidence.services import recent_checks
from app.web.nav import add_admin_page

bp = Blueprint("evidence", __name__)


_admin_required = permission_required(lambda user: user.role == "admin")
add_admin_page("evidence.index", "Bukti dan tanda tangan", order=96)


@bp.get("/admin/evidence")
@_admin_required
def index() -> ResponseReturnValue:
    c = container()
    identity = office_identity(c.settings)
    db = request_session()
    return render_template("admin/evidence.html", checks=recent_checks(db), anchors=list(reversed(
        list_anchors(c.settings, identity))), head=db.get(ChainHead, AUDIT_CHAIN), identity=identity)


@bp.get("/admin/evidence/anchors/<name>")
@_admin_required
def anchor_file(name: str) -> ResponseReturnValue:
    """An anchor, its signature, or the office certificate, for an inspector's copy."""
    folder = anchor_dir(container().settings)
    allowed = {p.name for p in folder.glob("*.json")} | {p.name for p in folder.glob("*.json.sig")} | {"office-cert.pem"}
    if name not in allowed or not (folder / name).is_file():
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "application/octet-stream"
    response = Response((folder / name).read_bytes(), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
