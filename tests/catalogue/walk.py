"""Walking a file through its procedure with the services, as the officers of each lane."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from app.files.models import ApplicationFile
from app.files.services import FileState, file_state, open_file
from app.worklist.completion import complete_task
from app.worklist.queries import open_tasks

LANE_OFFICERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
                 "cashier": "kasir", "head": "kepala"}


def add_officers(c: Container) -> None:
    from app.auth.services import create_user

    with c.db.unit_of_work() as session:
        for lane, username in LANE_OFFICERS.items():
            create_user(session, username, username.title(), "rahasia-123", lanes=[lane])
        create_user(session, "manajer", "Retno Wulandari", "rahasia-123", role="manager")


def open_new(c: Container, process_id: str, applicant: str = "Siti Rahmawati") -> str:
    with c.db.unit_of_work() as session:
        number = open_file(session, c.runtime, c.settings, process_id, applicant, "loket").file_number
    assert number is not None
    return number


def state(c: Container, number: str) -> FileState:
    with c.db.unit_of_work() as session:
        return file_state(session, c.runtime, number)


def file_row(c: Container, number: str) -> ApplicationFile:
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        session.expunge(file)
        return file


def open_steps(c: Container, number: str) -> list[tuple[str, str]]:
    """(task name, lane) of every open step, sorted."""
    return sorted((t.task_name, t.lane) for t in state(c, number).open_tasks)


def do(c: Container, number: str, task_name: str, data: dict[str, Any]) -> None:
    """Complete the open step ``task_name`` of the file, as an officer of its lane (validated by its form)."""
    [task] = [t for t in state(c, number).open_tasks if t.task_name == task_name]
    with c.db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == LANE_OFFICERS[task.lane])).one()
        assert task.id in {t.id for t in open_tasks(session, user.lane_names)}
        complete_task(session, c.runtime, c.forms, task.id, data, user)


def serial(number: str) -> str:
    """The year and count of a file number (PBG-2026-000001 -> 2026/000001): what permit numbers carry."""
    return number.split("-", 1)[1].replace("-", "/")
