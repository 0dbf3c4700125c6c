"""Walking a file through its procedure with the services, as the officers of each lane."""
from __future__ import annotations

from sqlalchemy import select

from app.container import Container
from app.files.models import ApplicationFile
from tests.walking import LANE_OFFICERS


def add_officers(c: Container) -> None:
    from app.auth.services import create_user

    with c.db.unit_of_work() as session:
        for lane, username in LANE_OFFICERS.items():
            create_user(session, username, username.title(), "rahasia-123", lanes=[lane])
        create_user(session, "manajer", "Retno Wulandari", "rahasia-123", role="manager")


def file_row(c: Container, number: str) -> ApplicationFile:
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        session.expunge(file)
        return file


