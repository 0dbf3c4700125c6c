"""PostgreSQL connections of the pool: a connection dropped while it sat idle in the pool is
replaced before a request uses it, and a busy service does not pay a ping per transaction."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from app.db import Database, WaitLimits


@pytest.fixture
def admin(postgres_url: str) -> Iterator[Any]:
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _backend_pid(db: Database) -> int:
    with db.unit_of_work() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _drop(admin: Any, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()


def _count_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    dialect = db.engine.dialect
    real = type(dialect).do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(1)
        return bool(real(dialect, dbapi_conn))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


def test_a_connection_dropped_while_idle_is_replaced_before_the_next_transaction(
        postgres_url: str, admin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(postgres_url, limits=WaitLimits(pool_size=1, ping_after_idle_seconds=0.0))
    try:
        pings = _count_pings(db, monkeypatch)
        first = _backend_pid(db)
        _drop(admin, first)  # e.g. the server restarted, or a firewall closed it, while it was idle
        second = _backend_pid(db)  # no error: the ping found it dead and the pool connected again
        assert second != first
        assert len(pings) == 1
    finally:
        db.dispose()


def test_a_connection_used_again_at_once_is_not_pinged(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(postgres_url, limits=WaitLimits(pool_size=1))  # pinged only after 5 s idle
    try:
        pings = _count_pings(db, monkeypatch)
        pids = {_backend_pid(db) for _ in range(3)}
        assert len(pids) == 1  # the same pooled connection each time
        assert pings == []  # no extra round trip per transaction
    finally:
        db.dispose()


def test_a_drop_between_two_quick_transactions_fails_one_and_the_next_reconnects(
        postgres_url: str, admin: Any) -> None:
    db = Database(postgres_url, limits=WaitLimits(pool_size=1, ping_after_idle_seconds=3600.0))
    try:
        first = _backend_pid(db)
        _drop(admin, first)
        with pytest.raises(sa_exc.OperationalError) as failed:
            _backend_pid(db)
        assert failed.value.connection_invalidated
        assert _backend_pid(db) != first
    finally:
        db.dispose()


def test_an_office_sets_how_long_a_connection_may_idle_unchecked(postgres_url: str, tmp_path: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings
    from app.container import Container
    from app.publisher import RecordingPublisher

    monkeypatch.setenv("PTSP_DB_PING_AFTER_IDLE_SECONDS", "0")  # check before every transaction
    settings = Settings.from_env(database_url=postgres_url, var_dir=tmp_path, db_pool_size=1)
    c = Container(settings, publisher=RecordingPublisher())
    try:
        pings = _count_pings(c.db, monkeypatch)
        pids = {_backend_pid(c.db) for _ in range(3)}
        assert len(pids) == 1 and len(pings) == 2  # the new connection is not pinged; each reuse is
    finally:
        c.db.dispose()
