"""Database plumbing: the declarative base, engines, the unit of work and the request's transaction.

Services flush; the boundary commits once: a CLI command or a Celery task through
:func:`Database.unit_of_work`, a web request through :func:`finish_request` (registered by
``app/web/transaction.py``): the request's session commits when the response is a success and
rolls back otherwise. Views never commit.
"""
from __future__ import annotations

import functools
import json
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import current_app, g, request
from flask import session as web_session
from sqlalchemy import (
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import (
    ColumnProperty,
    DeclarativeBase,
    ORMExecuteState,
    Session,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from flask import Response

log = logging.getLogger(__name__)

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


_PACKED = b"\x00"  # never the first byte of a zlib stream (0x78) nor of text


class CompressedText(TypeDecorator[str | bytes]):
    """Text stored zlib-compressed (a workflow's state repeats its data in every task: 17.8 KB of
    JSON become ~3.5 KB). Reads uncompressed values written before the column was compressed.
    Bytes are a value its writer packed itself (a finished instance's state,
    app/engine/final_state.py): stored behind a 0x00 marker and read back as the same bytes."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | bytes | None, dialect: object) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            return _PACKED + value
        return zlib.compress(value.encode("utf-8"), 6)

    def process_result_value(self, value: bytes | str | None, dialect: object) -> str | bytes | None:
        if value is None or isinstance(value, str):
            return value
        raw = bytes(value)
        if raw[:1] == _PACKED:
            return raw[1:]
        return zlib.decompress(raw).decode("utf-8") if raw[:1] == b"\x78" else raw.decode("utf-8")


class CompressedJSON(TypeDecorator[Any]):
    """JSON stored as UTF-8 bytes, zlib-compressed when that is smaller (a step's data in the
    history: most of a finished file's bytes). Reads the plain JSON text written before."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: object) -> bytes | None:
        if value is None:
            return None
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        packed = zlib.compress(raw, 9)
        return packed if len(packed) < len(raw) else raw

    def process_result_value(self, value: bytes | str | None, dialect: object) -> Any:
        if value is None:
            return None
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return json.loads(zlib.decompress(raw) if raw[:1] == b"\x78" else raw)  # JSON never starts with "x"


class HexDigest(TypeDecorator[str]):
    """A SHA-256 hex digest stored as its 32 bytes (half the size); reads hex text written before."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> bytes | None:
        return None if value is None else bytes.fromhex(value)

    def process_result_value(self, value: bytes | str | None, dialect: object) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return bytes(value).hex()


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
    # A pooled connection idle for longer than this is pinged before it is used again (one round
    # trip), so one the server or a firewall dropped meanwhile is replaced instead of failing the request.
    ping_after_idle_seconds: float = 5.0


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

        @event.listens_for(engine, "savepoint")
        def _begin_before_savepoint(conn, _name):  # type: ignore[no-untyped-def]
            # The sqlite3 driver begins a transaction only before a write: a SAVEPOINT before any
            # would start a transaction of its own, committed when the savepoint is released, so a
            # failure later in the unit of work could not roll it back. Begin the real one first.
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.in_transaction:
                dbapi_conn.execute("BEGIN")

        return engine
    limits = limits or WaitLimits()
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["options"] = (f"-c statement_timeout={int(limits.statement_timeout_seconds * 1000)} "
                                   f"-c lock_timeout={int(limits.lock_timeout_seconds * 1000)}")
    engine = create_engine(url, pool_size=limits.pool_size, max_overflow=limits.max_overflow,
                           pool_timeout=limits.pool_timeout_seconds, connect_args=connect_args)
    _ping_when_idle(engine, limits.ping_after_idle_seconds)
    return engine


_IDLE_SINCE = "ptsp_idle_since"  # in a pooled connection's info: when it was last given back (monotonic)


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's ``pool_pre_ping``, only for connections that sat in the pool longer than
    ``idle_seconds``: a busy service no longer pays a round trip per transaction for it, and a
    connection dropped while idle (a server restart, an idle timeout) is still replaced before use.
    A drop between two quick transactions fails the one statement that finds it; SQLAlchemy then
    invalidates every older pooled connection, so the next request reconnects."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one used a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_conn, None):
                # Like pre-ping: this one and every older pooled connection are replaced, and the pool retries.
                raise sa_exc.InvalidatePoolError(str(err)) from err
            raise


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


def insert_rows(session: Session, rows: Sequence[Base]) -> None:
    """Write new ``rows`` (transient, all of one mapped class with an autoincrement ``id``) with one
    Core ``INSERT ... RETURNING id`` and make them persistent in ``session``, as a flush would: for
    rows a hot path writes once and reads back, where the unit of work's bookkeeping costs more
    than the statement. Every column the rows leave unset is written as its Python default (a
    plain value) or NULL; nothing else is read back."""
    if not rows:
        return
    statement, columns = _insert_of(type(rows[0]))
    for row in rows:
        for key, _column, default in columns:
            if key not in row.__dict__:
                setattr(row, key, default)
    ids = session.connection().execute(statement, [{column: row.__dict__[key] for key, column, _ in columns}
                                                   for row in rows]).scalars().all()
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id  # type: ignore[attr-defined]
        make_transient_to_detached(row)
        session.add(row)
    session.info[_WROTE] = True


def update_rows(session: Session, rows: Iterable[Base]) -> None:
    """Write the changed columns of each persistent row of ``rows`` with one Core ``UPDATE`` (a
    versioned row's with its version check, bumping the version) and mark them written, as a flush
    of those rows would, without the unit of work's bookkeeping. A row whose version check fails
    raises :class:`~sqlalchemy.orm.exc.StaleDataError`, as a flush does. A row with no change, or
    one with a change that is not a plain column (a relationship set), is left to the next flush."""
    for row in rows:
        state = inspect(row)
        if not state.modified or state.key is None:
            continue
        mapper = state.mapper
        values: dict[str, Any] = {}
        for key, before in state.committed_state.items():
            prop = mapper.attrs[key]
            if not isinstance(prop, ColumnProperty):
                break
            value = state.dict.get(key)
            if before is not NO_VALUE and prop.columns[0].type.compare_values(before, value):
                continue
            values[prop.columns[0].key] = value
        else:
            if not values:
                continue
            statement, version = _update_of(type(row))
            params = {**values, "b_id": state.dict["id"]}
            if version is not None:
                params["b_version"] = state.dict[version]
                params[version] = state.dict[version] + 1
            if session.connection().execute(statement, params).rowcount != 1:
                raise StaleDataError(f"UPDATE of {cast(Table, mapper.local_table).name} row {params['b_id']}: "
                                     "0 rows matched (changed or deleted by someone else)")
            if version is not None:
                state.dict[version] = params[version]
            # As a flush leaves it: the row clean, and known to the transaction as written here (a
            # savepoint rolled back expires it, to be read again). Not only its values: a row left
            # flagged as modified sent the next flush (at every query's autoflush and at the commit)
            # through the whole unit of work to find nothing to write, ~10% of a step. Both calls are
            # SQLAlchemy's own after a flush (private; tests/test_db_rows.py and the savepoint tests
            # of tests/engine/test_workflow_cache.py fail if an upgrade changes them).
            state._commit_all(state.dict, session.identity_map)
            session._register_altered([state])
            session.info[_WROTE] = True


@functools.cache
def _update_of(cls: type[Base]) -> tuple[Any, str | None]:
    """The ``UPDATE ... WHERE id = :b_id [AND version = :b_version]`` of a mapped class (built
    once) and its version column, if any."""
    mapper = inspect(cls)
    table = cast(Table, mapper.local_table)
    version = mapper.version_id_col
    where = [table.c.id == bindparam("b_id")]
    if version is not None:
        where.append(version == bindparam("b_version"))
    return update(table).where(*where), (version.key if version is not None else None)


@functools.cache
def _insert_of(cls: type[Base]) -> tuple[Any, list[tuple[str, str, Any]]]:
    """The ``INSERT ... RETURNING id`` of a mapped class (built and cache-keyed once) and its
    columns as (attribute, column, value when unset)."""
    mapper = inspect(cls)
    columns = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key != "id":
            default = column.default
            columns.append((prop.key, column.key, default.arg if default is not None and default.is_scalar else None))
    table = cast(Table, mapper.local_table)
    return insert(table).returning(table.c.id, sort_by_parameter_order=True), columns


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


# -- the request's transaction ------------------------------------------------------------------
# A web request has one session (``request_session``) and one transaction: it commits once at the
# request boundary when the response is a success (status < 400, not streamed) and rolls back
# otherwise. Jobs asked for with ``enqueue_after_commit`` and callbacks given to ``after_commit``
# run only after that commit.

_WROTE = "ptsp_wrote"  # session.info: this transaction has written (a flush or a DML statement)
_AFTER_COMMIT = "ptsp_after_commit"  # session.info: callables to run once the transaction commits


def request_session() -> Session:
    """The request's database session: views call services, which flush; the request boundary
    commits (:func:`finish_request`). Whatever is not committed is rolled back when the request ends."""
    if "db_session" not in g:
        # the container (app/container.py), by its Flask name; it has the CoreParts' ``db``
        g.db_session = current_app.extensions["ptsp"].db.sessions()
    db_session: Session = g.db_session
    return db_session


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback()`` once ``session``'s transaction commits (never if it rolls back): work
    outside the database that must follow the data, e.g. dropping kept uploads, clearing a cache."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def keep_on_error() -> None:
    """This request's writes are committed even though its response is an error: for the few
    answers that carry their own record (a task page refusing a submission still showed the
    applicant's data, and who read it is logged).
    Each caller says why."""
    g.db_keep_on_error = True


def commit_before_streaming() -> None:
    """Commit the request's writes now, before a streamed response (a file sent from disk) that the
    request boundary does not commit: the one explicit commit a view may ask for. Each caller says why."""
    session = g.get("db_session")
    if session is not None and _has_writes(session):
        session.commit()


def finish_request(response: Response) -> Response:
    """The request boundary (an ``after_request`` hook): commit the request's session once when the
    response is a success and something was written; otherwise leave it to :func:`close_request_session`
    to roll back. A commit that fails is answered by the app's error handlers (e.g. 503 when busy)."""
    session: Session | None = g.get("db_session")
    if session is None or not _has_writes(session):
        return response
    success = response.status_code < 400 and not response.is_streamed
    if response.is_streamed and response.status_code < 400:
        log.error("%s wrote to the database but answered a streamed response; its writes are rolled back "
                  "(call commit_before_streaming first)", request.endpoint)
    if not (success or g.get("db_keep_on_error", False)):
        return response
    try:
        session.commit()
    except Exception as exc:
        session.rollback()
        web_session.pop("_flashes", None)  # a "saved" message would be a lie
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def close_request_session(_exc: BaseException | None = None) -> None:
    """Teardown: roll back whatever the request did not commit, and give the connection back."""
    db_session = g.pop("db_session", None)
    g.pop("db_keep_on_error", None)
    if db_session is not None:
        db_session.close()


def _has_writes(session: Session) -> bool:
    return session.in_transaction() and bool(
        session.info.get(_WROTE) or session.new or session.dirty or session.deleted
        or session.info.get("pending_jobs") or session.info.get(_AFTER_COMMIT))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:  # an INSERT/UPDATE/DELETE statement (or text(): counted as a write)
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop(_WROTE, None)
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # the data is committed; a failing follow-up must not turn it into an error
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_rollback")
def _forget_writes(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_AFTER_COMMIT, None)
