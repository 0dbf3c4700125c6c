"""API tokens for integrations: shown once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from app.auth.models import ApiToken, User
from app.clock import Clock

PREFIX = "ptsp_"
# How stale "last used" may be: recording every request would write (and commit) on every GET.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Built once (every API request runs it): the token with its user and the user's lanes, one query.
_BY_DIGEST = (select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
              .options(joinedload(ApiToken.user).joinedload(User.lanes)))


def issue_token(session: Session, user: User, name: str, clock: Clock) -> str:
    """Create a token for ``user``; the plain token is returned once and never stored."""
    plain = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(plain), created_at=clock.now()))
    session.flush()
    return plain


def user_for_token(session: Session, plain: str, clock: Clock) -> User | None:
    """The active user behind a valid, unrevoked token."""
    if not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    token = session.scalars(_BY_DIGEST, {"digest": _digest(plain)}).unique().first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now  # to the minute: the request's own commit records it
    return token.user


def revoke_token(session: Session, token_id: int, clock: Clock) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()
