"""A busy database answers 503 with Retry-After, fast (issue 10, item 12; PostgreSQL).

No free pooled connection: 503 after the pool timeout (not a 500 after 30 s), even for
/api/v1/me. A row locked by someone else: PostgreSQL's lock_timeout cancels the wait, so
a request never waits a minute on it."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text

from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.engine.models import HumanTask
from app.publisher import RecordingPublisher
from tests.api.test_api import api, assert_error, open_pbg, token_for
from tests.conftest import seed_office_users


@pytest.fixture(params=[1])
def busy_app(request: pytest.FixtureRequest, committed_postgres: str, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The web application on PostgreSQL with a pool of ``request.param`` connections, none waited for
    longer than 0.5 s, and row locks waited for 1 s at most."""
    from app import create_app

    settings = Settings(database_url=committed_postgres, var_dir=tmp_path / "var", secret_key="tests-only-secret-key-0001",
                        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    settings = replace(settings, db_pool_size=request.param, db_max_overflow=0, db_pool_timeout_seconds=0.5,
                       db_lock_timeout_seconds=1.0, db_statement_timeout_seconds=10.0)
    c = Container(settings, clock=clock, publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "test", c.clock, c.forms.names())
        seed_office_users(session)
    app = create_app(settings, clock=clock, publisher=c.publisher)
    app.extensions["ptsp"].db.dispose()
    app.extensions["ptsp"] = c
    app.config["TESTING"] = True
    yield app
    c.db.dispose()


def test_no_free_connection_is_a_quick_503_with_retry_after(busy_app: Flask) -> None:
    client = busy_app.test_client()
    token = token_for(busy_app, "loket")
    held = busy_app.extensions["ptsp"].db.engine.connect()  # the pool's only connection
    try:
        started = time.monotonic()
        response = api(client, token, "GET", "/api/v1/me")
        elapsed = time.monotonic() - started
        assert_error(response, 503, "service_unavailable")
        assert int(response.headers["Retry-After"]) > 0
        # The pool gave up after its 0.5 s, not SQLAlchemy's default 30 s (generous: CI's 2 cores may be loaded).
        assert elapsed < 10, f"waited {elapsed:.1f} s"
        page = client.get("/login")
        assert page.status_code in (200, 503)  # the sign-in page reads no row; never a 500
    finally:
        held.close()
    assert api(client, token, "GET", "/api/v1/me").status_code == 200


@pytest.mark.parametrize("busy_app", [4], indirect=True)
def test_a_locked_task_row_is_a_quick_503_not_a_minute_of_waiting(busy_app: Flask, postgres_url: str) -> None:
    client = busy_app.test_client()
    open_pbg(busy_app)
    token = token_for(busy_app, "loket")
    with busy_app.extensions["ptsp"].db.unit_of_work() as session:
        task_id = session.scalars(select(HumanTask.id)).one()
    other = create_engine(postgres_url)
    locker = other.connect()
    locker.execute(text("SELECT id FROM human_task WHERE id = :id FOR UPDATE"), {"id": task_id})
    # On code without a lock timeout the request would wait for ever: let the lock go after 15 s.
    release = threading.Timer(15, locker.rollback)
    release.start()
    try:
        started = time.monotonic()
        response = api(client, token, "POST", f"/api/v1/tasks/{task_id}/claim")
        elapsed = time.monotonic() - started
        assert_error(response, 503, "service_unavailable")
        assert "Retry-After" in response.headers
        # The 1 s lock timeout ended the wait, long before the lock is let go at 15 s (generous: a loaded CI).
        assert elapsed < 10, f"waited {elapsed:.1f} s on a locked row"
    finally:
        release.cancel()
        locker.rollback()
        locker.close()
        other.dispose()
    claimed = api(client, token, "POST", f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "loket"
