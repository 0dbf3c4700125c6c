"""The shell of the web application: home, front-end packages, error pages."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.config import ROOT
from app.i18n import N_

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


ERROR_TITLES = {
    400: N_("Permintaan tidak valid"),
    403: N_("Anda tidak berhak membuka halaman ini"),
    404: N_("Halaman tidak ditemukan"),
    409: N_("Sudah berubah atau tidak lagi berlaku"),
    422: N_("Isian tidak dapat diterima"),
    429: N_("Terlalu banyak permintaan"),
    503: N_("Layanan sedang sibuk"),
    500: N_("Terjadi kesalahan pada server"),
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


@bp.app_template_global("lane_titles")
def lane_titles() -> dict[str, str]:
    """Each lane's key -> its title in the page's language (diagrams show titles)."""
    from app.auth.lanes import LANES
    from app.i18n import current_language

    return {key: labels[current_language()] for key, labels in LANES.items()}


@bp.app_template_global("permit_name")
def permit_name(name: str | None) -> str:
    """A permit type's name (as its diagram gives it, in Indonesian) in the page's language,
    from the catalogue; a name the catalogue does not know is shown as it is."""
    from app.container import container
    from app.i18n import current_language

    lang = current_language()
    if not name or lang == "id":
        return name or ""
    for entry in container().catalogue.entries.values():
        if entry.name.get("id") == name:
            return entry.name.get(lang) or name
    return name


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for it at the root whatever the page says."""
    from flask import current_app

    return send_from_directory(Path(current_app.static_folder or ""), "favicon.ico", max_age=86400,
                               mimetype="image/vnd.microsoft.icon")


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

        body = error_body(code, (error.name or "error").lower().replace(" ", "_"), error.description or "error")
        return with_error_headers(body, error)
    title = ERROR_TITLES.get(code, ERROR_TITLES[500] if code >= 500 else ERROR_TITLES[400])
    return with_error_headers((render_template("web/error.html", code=code, title=title, detail=error.description),
                               code), error)


def with_error_headers(result: ResponseReturnValue, error: HTTPException) -> Response:
    """``result`` with the headers the error itself carries (``Allow`` on 405, ``Retry-After`` on 503)."""
    response = make_response(result)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


# Seconds a client is asked to wait when the database is too busy to answer now.
BUSY_RETRY_AFTER = 5


def database_busy(error: Exception) -> ResponseReturnValue:
    """503 with ``Retry-After`` when the database is too busy (no free connection in time, a row
    lock or statement timeout): the request fails fast instead of queueing; anything else re-raises."""
    from flask import g
    from werkzeug.exceptions import ServiceUnavailable

    from app.db import is_database_busy

    if not is_database_busy(error):
        raise error
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    from app.i18n import gettext

    return render_error(ServiceUnavailable(gettext("Layanan sedang sibuk; coba lagi dalam beberapa detik."),
                                           retry_after=BUSY_RETRY_AFTER))
