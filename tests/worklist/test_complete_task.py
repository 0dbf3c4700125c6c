"""Completing user tasks through the worklist: lanes, server-side validation, nothing changed on error."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import create_user
from app.container import Container
from app.engine.errors import TaskAlreadyDone
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.files.services import open_file
from app.worklist.completion import FormInvalid, complete_task
from app.worklist.queries import open_tasks
from app.worklist.rules import NotYourLane
from tests.samples import REGISTRATION


@pytest.fixture
def officers(deployed: Container) -> dict[str, User]:
    with deployed.db.unit_of_work() as session:
        users = {
            "loket": create_user(session, "loket", "Sri Wahyuni", "rahasia-123", lanes=["front_office"]),
            "kasir": create_user(session, "kasir", "Dewi Lestari", "rahasia-123", lanes=["cashier"]),
        }
    return users


@pytest.fixture
def registration_task(deployed: Container, officers: dict[str, User]) -> int:
    with deployed.db.unit_of_work() as session:
        open_file(session, deployed.runtime, deployed.settings, "building_permit", "Siti Rahmawati", "loket")
    with deployed.db.unit_of_work() as session:
        [task] = open_tasks(session, {"front_office"})
        return task.id


def snapshot(c: Container, task_id: int) -> tuple:
    with c.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        events = session.scalar(select(func.count()).select_from(InstanceEvent))
        return task.status, instance.lock_version, instance.state, events


def submit(c: Container, task_id: int, data: object, username: str) -> None:
    with c.db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        complete_task(session, c.runtime, c.forms, task_id, data, user)


def test_every_field_error_is_returned_and_nothing_changes(deployed: Container, registration_task: int) -> None:
    before = snapshot(deployed, registration_task)
    bad = {**REGISTRATION, "applicant": {**REGISTRATION["applicant"], "nik": "33140145"},
           "declared_floor_area_m2": -3, "declared_building_function": "gudang"}
    del bad["building_location"]
    with pytest.raises(FormInvalid) as caught:
        submit(deployed, registration_task, bad, "loket")
    fields = {e.field for e in caught.value.errors}
    assert {"applicant/nik", "declared_floor_area_m2", "declared_building_function", "building_location"} <= fields
    assert snapshot(deployed, registration_task) == before


def test_valid_data_completes_and_the_next_step_opens_for_its_lane(deployed: Container, registration_task: int) -> None:
    submit(deployed, registration_task, REGISTRATION, "loket")
    with deployed.db.unit_of_work() as session:
        assert session.get(HumanTask, registration_task).status == "completed"  # type: ignore[union-attr]
        assert [t.title for t in open_tasks(session, {"verifier"})] == ["Pemeriksaan kelengkapan berkas"]
        assert open_tasks(session, {"front_office"}) == []
    with pytest.raises(TaskAlreadyDone):
        submit(deployed, registration_task, REGISTRATION, "loket")


def test_another_lanes_task_is_refused(deployed: Container, registration_task: int) -> None:
    before = snapshot(deployed, registration_task)
    with pytest.raises(NotYourLane):
        submit(deployed, registration_task, REGISTRATION, "kasir")
    assert snapshot(deployed, registration_task) == before


@pytest.mark.parametrize("data", [[1, 2], "teks", None])
def test_data_that_is_not_an_object_is_refused(deployed: Container, registration_task: int, data: object) -> None:
    with pytest.raises(FormInvalid, match="JSON object"):
        submit(deployed, registration_task, data, "loket")
