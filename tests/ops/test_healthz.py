"""GET /healthz: database, broker and the age of the last worker heartbeat."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.clock import FixedClock
from app.config import Settings
from app.ops.services import record_heartbeat
from app.publisher import RecordingPublisher

ClientFor = Callable[[Settings], FlaskClient]


@pytest.fixture
def client_for(clock: FixedClock) -> Iterator[ClientFor]:
    apps = []

    def make(settings: Settings) -> FlaskClient:
        app = create_app(settings, clock=clock, publisher=RecordingPublisher())
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["ptsp"].db.dispose()


def test_healthy_when_database_broker_and_a_fresh_heartbeat_are_fine(
        settings: Settings, clock: FixedClock, client_for: ClientFor) -> None:
    client = client_for(settings)
    app_container = client.application.extensions["ptsp"]
    with app_container.db.unit_of_work() as session:
        record_heartbeat(session, "worker1@host", clock)
    clock.advance(seconds=20)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["worker"]["last_heartbeat_age_seconds"] == 20.0


def test_unhealthy_without_any_heartbeat(
        settings: Settings, clock: FixedClock, client_for: ClientFor) -> None:
    response = client_for(settings).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["worker"] == {"ok": False, "last_heartbeat_age_seconds": None,
                                             "error": "no heartbeat yet"}


def test_unhealthy_when_the_heartbeat_is_stale(
        settings: Settings, clock: FixedClock, client_for: ClientFor) -> None:
    client = client_for(settings)
    with client.application.extensions["ptsp"].db.unit_of_work() as session:
        record_heartbeat(session, "worker1@host", clock)
    clock.advance(seconds=settings.heartbeat_max_age_seconds + 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["worker"]["ok"] is False


def test_unhealthy_when_broker_is_unreachable(
        settings: Settings, clock: FixedClock, client_for: ClientFor) -> None:
    broken = replace(settings, broker_url="redis://127.0.0.1:1/0")
    response = client_for(broken).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["broker"]["ok"] is False


def test_unhealthy_when_database_is_unreachable(
        settings: Settings, clock: FixedClock, client_for: ClientFor) -> None:
    broken = replace(settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = client_for(broken).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False


def test_a_partly_corrupt_sqlite_file_is_reported_at_start_and_by_healthz(
        tmp_path, clock: FixedClock, client_for: ClientFor, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """SELECT 1 still works on a file with damaged pages; quick_check does not."""
    import logging
    import shutil

    from sqlalchemy import create_engine, text

    from app.migrate import upgrade

    path = tmp_path / "kantor.sqlite"
    upgrade(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # an archive table /healthz itself never reads
        conn.execute(text("CREATE TABLE arsip (isi TEXT)"))
        # Large enough that the middle of the file is this table's pages, however many tables the schema has.
        conn.execute(text("INSERT INTO arsip (isi) VALUES (:isi)"),
                     [{"isi": f"dokumen-{n}-" + "x" * 80} for n in range(30000)])
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    healthy_copy = tmp_path / "sehat.sqlite"
    shutil.copy(path, healthy_copy)
    size = path.stat().st_size
    with path.open("r+b") as fh:  # damage a run of pages in the middle of the file
        fh.seek(size // 2)
        fh.write(b"\x00\xffRUSAK" * (16 * 1024 // 7))
    settings = Settings(database_url=f"sqlite:///{path}", var_dir=tmp_path / "var",
                        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    with caplog.at_level(logging.ERROR, logger="app.ops.services"):
        client = client_for(settings)
    assert any("is corrupt" in r.getMessage() for r in caplog.records)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["ok"] is True  # what /healthz said before: "healthy"
    assert body["database_integrity"]["ok"] is False and body["database_integrity"]["error"]

    good = client_for(replace(settings, database_url=f"sqlite:///{healthy_copy}")).get("/healthz").get_json()
    assert good["database_integrity"] == {"ok": True}
