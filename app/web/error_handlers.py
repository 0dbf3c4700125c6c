"""The application's error handlers, one per kind of error (registered by ``create_app``).

* Domain errors (``app/errors.py``): a page with the error's status and its message in the reader's
  language; under ``/api/`` the API's JSON error body (``app/api/errors.py``).
* HTTP errors (``abort(404)``, CSRF failures): the error page, or the JSON body under ``/api/``.
* A database too busy to answer: 503 with ``Retry-After``.

Whatever the request wrote is rolled back first (the request boundary never commits an error).
"""
from __future__ import annotations

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app.errors import DomainError
from app.web.views import ERROR_TITLES, database_busy, render_error


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(CSRFError, render_error)
    for busy in (sa_exc.TimeoutError, sa_exc.OperationalError):
        app.register_error_handler(busy, database_busy)


def domain_error(error: DomainError) -> ResponseReturnValue:
    """A refusal a user caused, answered with its status; nothing it wrote is kept."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    if request.path.startswith("/api/"):
        from app.api.errors import error_body, from_domain

        api_error = from_domain(error)
        return error_body(api_error.status, api_error.code, api_error.message, api_error.details)
    code = error.status
    title = ERROR_TITLES.get(code, ERROR_TITLES[500] if code >= 500 else ERROR_TITLES[400])
    return render_template("web/error.html", code=code, title=title, message=error.user_message()), code
