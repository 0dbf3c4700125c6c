"""Database plumbing: the declarative base, engines and the unit of work.

Services flush; the boundary (a request, a CLI command, a Celery task) commits
once through :func:`unit_of_work`.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy import DateTime, LargeBinary, MetaData, String, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CompressedText(TypeDecorator[str]):
    """Text stored zlib-compressed (a workflow's state repeats its data in every task: 17.8 KB of
    JSON become ~3.5 KB). Reads uncompressed values written before the column was compressed."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> bytes | None:
        return None if value is None else zlib.compress(value.encode("utf-8"), 6)

    def process_result_value(self, value: bytes | str | None, dialect: object) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raw = bytes(value)
        return zlib.decompress(raw).decode("utf-8") if raw[:1] == b"\x78" else raw.decode("utf-8")


E = TypeVar("E", bound=StrEnum)


class StatusColumn(TypeDecorator[E]):
    """A status column typed by a :class:`~enum.StrEnum`: stored as the member's plain text in a
    ``VARCHAR(20)`` (the same column and values as before, so no data migration), read back as the
    member; a value that is not a member is refused before it reaches the database."""

    impl = String(20)
    cache_ok = True

    def __init__(self, statuses: type[E]) -> None:
        super().__init__()
        self.statuses = statuses

    def process_bind_param(self, value: E | str | None, dialect: object) -> str | None:
        return None if value is None else self.statuses(value).value

    def process_result_value(self, value: str | None, dialect: object) -> E | None:
        return None if value is None else self.statuses(value)


@dataclass(frozen=True)
class WaitLimits:
    """How long anything waits on the database (PostgreSQL): for a pooled connection, for one
    statement, for a row lock. Past them the caller gets an error it can answer 503 with,
    rather than a request queued for a minute."""

    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 30.0
    lock_timeout_seconds: float = 5.0


def make_engine(url: str, limits: WaitLimits | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL
    a bounded pool and statement and lock timeouts (:class:`WaitLimits`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    limits = limits or WaitLimits()
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["options"] = (f"-c statement_timeout={int(limits.statement_timeout_seconds * 1000)} "
                                   f"-c lock_timeout={int(limits.lock_timeout_seconds * 1000)}")
    return create_engine(url, pool_pre_ping=True, pool_size=limits.pool_size, max_overflow=limits.max_overflow,
                         pool_timeout=limits.pool_timeout_seconds, connect_args=connect_args)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, publisher: object | None = None, limits: WaitLimits | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, limits)
        # Every session carries the publisher that sends its jobs after commit.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"publisher": publisher})

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session that commits once at the end, or rolls back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def is_database_busy(error: BaseException) -> bool:
    """True for the errors of a database too busy to answer now (retrying later may work):
    no pooled connection free in time, a row lock or statement timing out (PostgreSQL),
    or a locked SQLite file."""
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.OperationalError):
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if code in ("55P03", "57014"):  # lock_not_available, query_canceled (statement_timeout)
            return True
        return "database is locked" in str(error.orig)
    return False
