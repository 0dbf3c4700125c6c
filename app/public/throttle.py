"""Throttling guesses (tracking PINs) per client address and per subject.

The limit must hold across every web process, so failed guesses are rows in the
database. For now they reuse the ``login_attempt`` table (indexed by username and
address, and by time) with both keys prefixed by the limiter's scope
("track:..."), which can never match a real username or address, so sign-in
throttling and guess throttling never count each other's rows. A dedicated
table can replace it behind the same :class:`GuessLimiter` interface.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt
from app.clock import Clock


class GuessLimiter(Protocol):
    def refused(self, session: Session, client: str, subject: str) -> bool:
        """True when ``client`` or ``subject`` has used up its failed guesses for now."""

    def record_failure(self, session: Session, client: str, subject: str) -> None:
        """Count one failed guess of ``client`` at ``subject`` (flushes; the caller commits)."""


@dataclass
class DatabaseGuessLimiter:
    """At most ``max_failures`` failed guesses per ``window``, per client address and per subject."""

    scope: str
    clock: Clock
    max_failures: int = 10
    window: timedelta = timedelta(minutes=15)

    def refused(self, session: Session, client: str, subject: str) -> bool:
        since = self.clock.now() - self.window
        client_key, subject_key = self._keys(client, subject)
        failures = (LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        # Two counts rather than one OR, so each uses its own (key, at) index.
        by_client = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip == client_key, *failures)) or 0
        if by_client >= self.max_failures:
            return True
        by_subject = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == subject_key, *failures)) or 0
        return by_subject >= self.max_failures

    def record_failure(self, session: Session, client: str, subject: str) -> None:
        client_key, subject_key = self._keys(client, subject)
        session.add(LoginAttempt(username=subject_key, ip=client_key, at=self.clock.now(), success=False))
        session.flush()

    def _keys(self, client: str, subject: str) -> tuple[str, str]:
        # Column sizes: ip String(64), username String(100).
        return f"{self.scope}:{client}"[:64], f"{self.scope}:{subject}"[:100]
