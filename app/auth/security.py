"""Sign-in, throttling, roles and lanes: who may do what."""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

import flask_login
from flask import Flask, Request, Response, abort, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import User
from app.db import request_session
from app.ratelimit import Limit, RateLimits

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the page itself says why


@functools.cache
def dummy_password_hash() -> str:
    """Compared against when the user (or file) is unknown, so a wrong name costs the time of a wrong
    password. Made on first use: an scrypt hash at import would cost every start of the CLI and workers."""
    return generate_password_hash("no-such-user", method="scrypt")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, doing nothing for a request that brings no session cookie and
    leaves its session empty (every API request: bearer tokens, never cookies). Flask's own builds a
    signing serializer and reads seven cookie settings for it on every request."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()  # what Flask's gives for no cookie
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # nothing to set or delete
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

F = TypeVar("F", bound=Callable[..., Any])


class SignInRefused(Exception):
    def __init__(self, reason: str, throttled: bool = False) -> None:
        self.reason = reason
        self.throttled = throttled
        super().__init__(reason)


def sign_in_limit(rate_limits: RateLimits) -> Limit:
    """Failed sign-ins allowed per username and per address before both are refused for a while."""
    return rate_limits.limit("sign-in", MAX_FAILURES, FAILURE_WINDOW)


def authenticate(session: Session, username: str, password: str, ip: str, limit: Limit) -> User:
    """The user whose password this is; failed attempts are counted and repeated
    failures (per username and per address) are throttled."""
    if limit.refused(ip, username):
        raise SignInRefused("too_many_attempts", throttled=True)
    user = session.scalars(select(User).where(User.username == username)).first()
    ok = check_password_hash(user.password_hash if user else dummy_password_hash(), password) and user is not None
    ok = ok and bool(user and user.active)
    if not ok or user is None:
        limit.hit(ip, username)
        raise SignInRefused("bad_credentials")
    return user


def client_address() -> str:
    """The requesting client's address, for throttles (set PTSP_PROXY_HOPS behind a proxy)."""
    return request.remote_addr or "unknown"


def _load_user(user_id: str) -> User | None:
    try:
        user = request_session().get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


login_manager.user_loader(_load_user)  # a call, not a decorator: Flask-Login's decorator is untyped


def login_required(view: F) -> F:
    """Flask-Login's ``login_required`` with the view's own type (Flask-Login ships no types)."""
    return cast(F, flask_login.login_required(view))


def permission_required(allowed: Callable[[User], bool]) -> Callable[[F], F]:
    """Views only signed-in users for whom ``allowed(user)`` holds may open: anonymous
    visitors are sent to sign in, everyone else gets 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def role_required(*roles: str) -> Callable[[F], F]:
    """Views only users of ``roles`` may open."""
    return permission_required(lambda user: user.has_role(*roles))


# Views for members of at least one lane.
officer_required = permission_required(lambda user: bool(user.lane_names))
