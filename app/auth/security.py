"""Sign-in, throttling, roles and lanes: who may do what."""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import abort, request
from flask_login import LoginManager, current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import LoginAttempt, User
from app.clock import Clock
from app.db import request_session

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the page itself says why


@functools.cache
def dummy_password_hash() -> str:
    """Compared against when the user (or file) is unknown, so a wrong name costs the time of a wrong
    password. Made on first use: an scrypt hash at import would cost every start of the CLI and workers."""
    return generate_password_hash("no-such-user", method="scrypt")


MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

F = TypeVar("F", bound=Callable[..., Any])


class SignInRefused(Exception):
    def __init__(self, reason: str, throttled: bool = False) -> None:
        self.reason = reason
        self.throttled = throttled
        super().__init__(reason)


def authenticate(session: Session, username: str, password: str, ip: str, clock: Clock) -> User:
    """The user whose password this is; every attempt is recorded and
    repeated failures (per username and per address) are throttled."""
    now = clock.now()
    since = now - FAILURE_WINDOW
    failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.at >= since, LoginAttempt.success.is_(False),
        (LoginAttempt.username == username) | (LoginAttempt.ip == ip)))
    if (failures or 0) >= MAX_FAILURES:
        raise SignInRefused("too_many_attempts", throttled=True)
    user = session.scalars(select(User).where(User.username == username)).first()
    ok = check_password_hash(user.password_hash if user else dummy_password_hash(), password) and user is not None
    ok = ok and bool(user and user.active)
    session.add(LoginAttempt(username=username[:100], ip=ip[:64], at=now, success=ok))
    session.flush()
    if not ok or user is None:
        raise SignInRefused("bad_credentials")
    return user


def client_address() -> str:
    """The requesting client's address, for throttles (set PTSP_PROXY_HOPS behind a proxy)."""
    return request.remote_addr or "unknown"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        user = request_session().get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


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
