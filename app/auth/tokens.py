"""API tokens for integrations: shown once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, contains_eager

from app.auth.models import ApiToken, User
from app.clock import Clock

PREFIX = "ptsp_"
# How stale "last used" may be: recording every request would write (and commit) on every GET.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Built once (every API request runs it): the token's user with its lanes and the token's own state, one
# query. The user is the one entity loaded (the token's columns come as plain values): ~10% less CPU per
# request than loading the token as an entity with its user and lanes eagerly joined.
_BY_DIGEST = (select(User, ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at)
              .join(ApiToken, ApiToken.user_id == User.id).outerjoin(User.lanes)
              .where(ApiToken.token_hash == bindparam("digest")).options(contains_eager(User.lanes)))
_TOUCH = (update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))
          .execution_options(synchronize_session=False))


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
    row = session.execute(_BY_DIGEST, {"digest": _digest(plain)}).unique().first()
    if row is None:
        return None
    user, token_id, revoked_at, last_used_at = row
    if revoked_at is not None or not user.active:
        return None
    now = clock.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        # To the minute, in the request's transaction: its commit records it, a rollback forgets it.
        session.execute(_TOUCH, {"token_id": token_id, "now": now})
    return user


def revoke_token(session: Session, token_id: int, clock: Clock) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()
