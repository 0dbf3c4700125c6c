"""One error map: domain errors (app/errors.py) carry their status and an Indonesian message, and the
error handlers (app/web/error_handlers.py) answer them: a page under the status with the message, or
the API's JSON error body under /api/."""
from __future__ import annotations

import html

import pytest
from flask import Flask

from app.container import Container
from app.engine.errors import ConcurrentUpdate, EngineError, NotFound
from app.errors import Conflict, DomainError, Forbidden, Invalid
from app.notify.services import NotAllowed, reassign_task
from app.permits.services import AlreadyRevoked, RevocationInvalid
from app.worklist.rules import ClaimedByOther, NotYourLane
from tests.sla.office import make_office
from tests.walking import open_pbg, open_task, user


def test_every_domain_error_carries_a_status_and_a_message_for_a_person() -> None:
    assert (NotFound.status, NotYourLane.status, ClaimedByOther.status, RevocationInvalid.status) == (404, 403, 409, 422)
    assert issubclass(EngineError, DomainError) and issubclass(NotAllowed, Forbidden)
    assert issubclass(AlreadyRevoked, Conflict) and issubclass(AlreadyRevoked, RevocationInvalid)
    assert issubclass(RevocationInvalid, Invalid)
    assert AlreadyRevoked("permit 1 was already revoked").user_message() == "Izin ini sudah dicabut."


@pytest.fixture
def probe_app(web_app: Flask) -> Flask:
    def missing() -> str:
        raise NotFound("no file 'X'")

    def race() -> str:
        raise ConcurrentUpdate("changed by someone else")

    for view in (missing, race):
        web_app.add_url_rule(f"/_probe/{view.__name__}", view.__name__, view)
        web_app.add_url_rule(f"/api/_probe/{view.__name__}", f"api_{view.__name__}", view)
    return web_app


def test_a_page_answers_a_domain_error_with_its_status_and_message(probe_app: Flask) -> None:
    client = probe_app.test_client()
    missing = client.get("/_probe/missing")
    assert missing.status_code == 404
    assert "Yang dicari tidak ditemukan." in html.unescape(missing.get_data(as_text=True))
    race = client.get("/_probe/race")
    assert race.status_code == 409
    assert "Berkas ini diubah orang lain pada saat yang sama" in html.unescape(race.get_data(as_text=True))
    english = client.get("/_probe/race?lang=en")
    assert "Someone else changed this file at the same moment" in html.unescape(english.get_data(as_text=True))


def test_the_api_answers_a_domain_error_with_its_json_error_body(probe_app: Flask) -> None:
    client = probe_app.test_client()
    response = client.get("/api/_probe/race")
    assert response.status_code == 409
    assert response.get_json() == {"error": {"code": "conflict", "message": "changed by someone else", "details": []}}
    assert client.get("/api/_probe/missing").get_json()["error"]["code"] == "not_found"


@pytest.mark.commits  # two sessions race: each needs its own connection
def test_a_reassignment_that_loses_a_race_is_a_conflict_and_changes_nothing(deployed: Container) -> None:
    c = deployed
    make_office(c)
    task = open_task(c, open_pbg(c))
    with c.db.unit_of_work() as late:
        manager, loket = user(late, "manajer"), user(late, "loket")
        late_task_instance = late.get(type(task), task.id).instance  # read before the other manager writes
        assert late_task_instance is not None
        with c.db.unit_of_work() as first:
            reassign_task(first, task.id, user(first, "loket"), user(first, "manajer"), c.clock)
        with pytest.raises(ConcurrentUpdate) as lost:
            reassign_task(late, task.id, loket, manager, c.clock)
        assert lost.value.status == 409
        late.rollback()
    with c.db.unit_of_work() as session:
        from sqlalchemy import func, select

        from app.engine.models import InstanceEvent

        assert session.scalar(select(func.count()).select_from(InstanceEvent)
                              .where(InstanceEvent.kind == "reassigned")) == 1
