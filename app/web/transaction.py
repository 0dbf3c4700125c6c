"""One transaction per web request: the hooks that commit the request's session at the boundary.

The work itself is in :mod:`app.db` (``request_session``, ``finish_request``,
``close_request_session``); this module only registers it with Flask.
"""
from __future__ import annotations

from flask import Flask

from app.db import close_request_session, finish_request


def init_app(app: Flask) -> None:
    """Register the request boundary. Call it after every other ``after_request`` hook is registered:
    Flask runs them last-registered first, so the commit happens before the headers hooks and the
    session cookie, and an error answer from a failed commit still gets them."""
    app.after_request(finish_request)
    app.teardown_appcontext(close_request_session)
