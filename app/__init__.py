"""PTSP: the regional one-stop permit service."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response
from werkzeug.routing import IntegerConverter, Map

from app.clock import Clock
from app.config import Settings
from app.publisher import Publisher


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               publisher: Publisher | None = None) -> Flask:
    """The Flask application, wired from ``settings`` (environment by default): the web pages, the
    JSON API and the ``ptsp`` commands on top of what a worker has (:func:`create_worker_app`)."""
    from flask_wtf.csrf import CSRFProtect

    from app import cli, logging_setup
    from app.auth.security import CookieSessions, login_manager
    from app.web import error_handlers, transaction
    from app.web.json_provider import LimitedJSONProvider
    from app.web.nav import nav_items

    app = _core_app(settings, clock, publisher, check_fees=True)
    settings = app.extensions["ptsp"].settings
    logging_setup.init_app(app)  # first: the request id is known to every later hook and error page
    app.json = LimitedJSONProvider(app)  # deep JSON is a bad request, never a RecursionError
    app.session_interface = CookieSessions()  # no cookie work for requests without one (the API)
    # Every <int:...> in a URL is a database id: larger than the column can hold is simply not found.
    app.url_map.converters["int"] = _DatabaseId
    app.config.update(  # SECRET_KEY is set by _core_app
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=8 * 3600,  # one working day
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    login_manager.init_app(app)
    csrf = CSRFProtect(app)
    app.extensions["csrf"] = csrf
    app.jinja_env.globals["nav_items"] = nav_items
    for blueprint in _blueprints():
        if blueprint.name == "api":
            csrf.exempt(blueprint)  # bearer tokens, never cookies: nothing to forge
        app.register_blueprint(blueprint)
    error_handlers.init_app(app)
    app.after_request(_security_headers)
    transaction.init_app(app)  # last: the request's one commit runs before the other after_request hooks
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    cli.register(app)
    return app


def create_worker_app(settings: Settings | None = None, *, clock: Clock | None = None,
                      publisher: Publisher | None = None) -> Flask:
    """What a Celery worker or beat runs its jobs in: the settings, the container (database,
    engine, forms, mail), JSON log lines and the translations (notices are written in the
    office's language). No pages, no API, no commands: a worker imports none of the views and
    starts in about half the time (benchmarks/startup.py). The catalogue's worked examples are
    not run again: the web process, which publishes the fees, refuses to start on a mismatch."""
    return _core_app(settings, clock, publisher, check_fees=False)


def create_command_app(settings: Settings | None = None) -> Flask:
    """What a ``ptsp`` command runs in: the worker's app plus the commands; the catalogue's worked
    examples are checked as at the web's start (``ptsp deploy`` publishes). No pages: a command
    imports none of the views."""
    from app import cli

    app = _core_app(settings, None, None, check_fees=True)
    cli.register(app)
    return app


def _core_app(settings: Settings | None, clock: Clock | None, publisher: Publisher | None, *,
              check_fees: bool) -> Flask:
    from app import i18n, logging_setup
    from app.container import Container

    settings = settings or Settings.from_env()
    logging_setup.configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    kwargs = {"clock": clock} if clock is not None else {}
    app.extensions["ptsp"] = Container(settings, publisher=publisher, check_fees=check_fees, **kwargs)
    i18n.init_app(app, timezone=settings.timezone)
    if app.extensions["ptsp"].db.engine.dialect.name == "sqlite":
        from app.ops.services import sqlite_integrity

        sqlite_integrity(app.extensions["ptsp"].db, force=True)  # logged loudly when the file is damaged
    return app


class _DatabaseId(IntegerConverter):
    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _blueprints() -> list[Blueprint]:
    """Every feature's blueprint; a feature adds itself here."""
    from app.api.views import bp as api_bp
    from app.auth.views import bp as auth_bp
    from app.catalogue.views import bp as catalogue_bp
    from app.complaints.views import bp as complaints_bp
    from app.designer.views import bp as designer_bp  # with modeler_views and form_views: one blueprint
    from app.desk.views import bp as desk_bp
    from app.evidence.views import bp as evidence_bp
    from app.files.list_views import bp as file_list_bp
    from app.files.views import bp as files_bp
    from app.notify.views import bp as inbox_bp
    from app.ops.views import bp as ops_bp
    from app.permits.views import bp as permits_bp
    from app.privacy.views import bp as privacy_bp
    from app.public.views import bp as public_bp
    from app.skm.views import bp as skm_bp
    from app.web.views import bp as web_bp
    from app.worklist.views import bp as worklist_bp

    return [ops_bp, web_bp, auth_bp, api_bp, files_bp, file_list_bp, public_bp, worklist_bp, designer_bp,
            catalogue_bp, permits_bp, complaints_bp, inbox_bp, skm_bp, desk_bp, evidence_bp, privacy_bp]


# Sent on every response unless its view set its own (lower-cased name, name, value).
_SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
     "font-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
))


def _security_headers(response: Response) -> Response:
    # One pass over the response's headers, not one per header set (Headers.setdefault scans them each time).
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for lower, name, value in _SECURITY_HEADERS:
        if lower not in present:
            headers.add(name, value)
    return response
