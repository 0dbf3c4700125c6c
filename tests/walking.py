"""Opening files and walking them through their steps with the services, as officers do:
the one set of helpers every test shares (the officers are those of ``tests.conftest.OFFICE_USERS``,
``tests.catalogue.walk.add_officers`` or ``tests.sla.office.make_office``: one username per lane)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from app.engine.models import HumanTask
from app.files.services import FileState, file_state, open_file
from app.worklist.completion import complete_task
from app.worklist.queries import open_tasks

LANE_OFFICERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
                 "cashier": "kasir", "head": "kepala"}

Steps = list[tuple[str, dict[str, Any]]]


def open_new(c: Container, process_id: str = "building_permit", applicant: str = "Siti Rahmawati",
             actor: str = "loket") -> str:
    """Open a file of ``process_id`` (its first step waits at the front desk); its number."""
    with c.db.unit_of_work() as session:
        number = open_file(session, c.runtime, c.settings, process_id, applicant, actor).file_number
    assert number is not None
    return number


def open_pbg(c: Container, applicant: str = "Siti Rahmawati") -> str:
    """Open a building-permit file; its number."""
    return open_new(c, "building_permit", applicant)


def state(c: Container, number: str) -> FileState:
    with c.db.unit_of_work() as session:
        return file_state(session, c.runtime, number)


def open_steps(c: Container, number: str) -> list[tuple[str, str]]:
    """(task name, lane) of every open step, sorted."""
    return sorted((t.task_name, t.lane) for t in state(c, number).open_tasks)


def open_task(c: Container, number: str) -> HumanTask:
    """The single open step of a file (fails when there are none or several)."""
    [task] = state(c, number).open_tasks
    return task


def do_step(c: Container, number: str, username: str, data: dict[str, Any]) -> None:
    """Complete the file's single open step as ``username`` (validated by its form)."""
    task_id = open_task(c, number).id
    with c.db.unit_of_work() as session:
        complete_task(session, c.runtime, c.forms, task_id, data, user(session, username))


def walk(c: Container, number: str, steps: Steps) -> None:
    """``do_step`` for each (username, data) in turn."""
    for username, data in steps:
        do_step(c, number, username, data)


def do(c: Container, number: str, task_name: str, data: dict[str, Any]) -> None:
    """Complete the open step ``task_name`` of the file as the officer of its lane, who must
    find it on their worklist (validated by its form)."""
    [task] = [t for t in state(c, number).open_tasks if t.task_name == task_name] or [None]
    assert task is not None, (f"{number} has no open step {task_name}", open_steps(c, number))
    with c.db.unit_of_work() as session:
        officer = user(session, LANE_OFFICERS[task.lane])
        assert task.id in {t.id for t in open_tasks(session, officer.lane_names)}
        complete_task(session, c.runtime, c.forms, task.id, data, officer)


def user(session: Any, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def serial(number: str) -> str:
    """The year and count of a file number (PBG-2026-000001 -> 2026/000001): what permit numbers carry."""
    return number.split("-", 1)[1].replace("-", "/")
