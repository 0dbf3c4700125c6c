"""Status columns are typed: rows read back as their StrEnum member, the stored text is the same as
before the enums (no data migration), and a status that is not a member never reaches the database."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from app.container import Container
from app.engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from tests.walking import open_pbg, open_task


def test_statuses_read_back_as_members_and_are_stored_as_plain_text(deployed: Container) -> None:
    number = open_pbg(deployed)
    task = open_task(deployed, number)
    assert task.status is TaskStatus.OPEN
    with deployed.db.unit_of_work() as session:
        instance = session.get_one(ProcessInstance, task.instance_id)
        assert instance.status is InstanceStatus.RUNNING
        stored = session.execute(text("SELECT status FROM human_task WHERE id = :id"), {"id": task.id}).scalar_one()
        assert (type(stored), stored) == (str, "open")
        # Rows written as plain text before the enums (or by SQL) read back as members.
        session.execute(text("UPDATE human_task SET status = 'cancelled' WHERE id = :id"), {"id": task.id})
        session.expire_all()
        assert session.get_one(HumanTask, task.id).status is TaskStatus.CANCELLED


def test_a_status_that_is_not_a_member_is_refused_and_nothing_changes(deployed: Container) -> None:
    task = open_task(deployed, open_pbg(deployed))
    with pytest.raises(StatementError, match="'opened' is not a valid TaskStatus"), \
            deployed.db.unit_of_work() as session:
        session.get_one(HumanTask, task.id).status = "opened"  # type: ignore[assignment]
        session.flush()
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(HumanTask.status).where(HumanTask.id == task.id)).one() is TaskStatus.OPEN
