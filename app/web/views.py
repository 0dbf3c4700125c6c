"""The shell of the web application: home, front-end packages, error pages."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.config import ROOT
from app.i18n import register

bp = Blueprint("web", __name__)

NODE_MODULES = ROOT / "node_modules"
# Only these files of node_modules are served.
VENDOR_FILES = {
    "css/pico.min.css": "@picocss/pico/css/pico.min.css",
    "js/bpmn-viewer.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "js/bpmn-modeler.js": "bpmn-js/dist/bpmn-modeler.production.min.js",
    "css/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "css/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    "css/bpmn.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn.css",  # loads ../font/*
}

register({
    "PTSP Kabupaten": "Regency one-stop service",
    "Pelayanan Terpadu Satu Pintu": "One-stop integrated service",
    "Langsung ke isi": "Skip to content",
    "Halaman tidak ditemukan": "Page not found",
    "Anda tidak berhak membuka halaman ini": "You may not open this page",
    "Permintaan tidak valid": "Bad request",
    "Terjadi kesalahan pada server": "Something went wrong on the server",
    "Terlalu banyak permintaan": "Too many requests",
    "Kembali ke beranda": "Back to the home page",
    "Sesi formulir kedaluwarsa. Muat ulang halaman dan coba lagi.":
        "The form's session expired. Reload the page and try again.",
})

ERROR_TITLES = {
    400: "Permintaan tidak valid",
    403: "Anda tidak berhak membuka halaman ini",
    404: "Halaman tidak ditemukan",
    429: "Terlalu banyak permintaan",
    500: "Terjadi kesalahan pada server",
}


@bp.get("/")
def home() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role == "admin":
        return redirect(url_for("auth.users"))
    for endpoint in home_endpoints(current_user):
        return redirect(url_for(endpoint))
    return render_template("web/home.html")


def home_endpoints(user: object) -> list[str]:
    """Where each kind of user starts; features add theirs when they exist."""
    from flask import current_app

    wanted = []
    if getattr(user, "lane_names", None):
        wanted.append("worklist.index")
    if getattr(user, "role", None) == "manager":
        wanted.append("inbox.index")
    if getattr(user, "role", None) == "designer":
        wanted.append("designer.index")
    return [e for e in wanted if e in current_app.view_functions]


@bp.get("/vendor/<path:name>")
def vendor(name: str) -> ResponseReturnValue:
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = Path(NODE_MODULES / relative)
    return send_from_directory(path.parent, path.name, max_age=86400)


@bp.get("/vendor/font/<name>")
def vendor_font(name: str) -> ResponseReturnValue:
    return send_from_directory(NODE_MODULES / "bpmn-js/dist/assets/bpmn-font/font", name, max_age=86400)


def render_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if request.path.startswith("/api/"):
        from app.api.errors import error_body

        return error_body(code, (error.name or "error").lower().replace(" ", "_"), error.description or "error")
    title = ERROR_TITLES.get(code, ERROR_TITLES[500] if code >= 500 else ERROR_TITLES[400])
    return render_template("web/error.html", code=code, title=title, detail=error.description), code
