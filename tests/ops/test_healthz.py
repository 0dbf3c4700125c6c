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
