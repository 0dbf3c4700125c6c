"""An office with officers in every lane (with email addresses), a manager and a deputy
head, and helpers to walk a building-permit file; shared by the SLA and notify tests."""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.auth.services import set_lanes, set_password
from app.container import Container
from app.files.models import ApplicationFile
from app.files.services import get_file
from app.notify.delivery import DELIVER_JOB, Outcome, deliver
from app.notify.models import Notice
from app.publisher import RecordingPublisher
from app.sla.services import assign_manager

PASSWORD = "rahasia-12345"
OFFICERS = {  # username: (lanes, role)
    "loket": (["front_office"], "officer"),
    "verifikator": (["verifier"], "officer"),
    "teknis": (["technical_team"], "officer"),
    "kasir": (["cashier"], "officer"),
    "kepala": (["head"], "officer"),
    "wakil": (["head"], "officer"),
    "manajer": ([], "manager"),
}
@functools.cache
def _password_hash() -> str:
    probe = User(username="probe", full_name="probe", role="officer", password_hash="")
    set_password(probe, PASSWORD)
    return probe.password_hash


def make_office(c: Container) -> None:
    with c.db.unit_of_work() as session:
        for username, (lanes, role) in OFFICERS.items():
            # Hashed once per run: these users never sign in, and scrypt is slow on purpose.
            officer = User(username=username, full_name=username.title(), role=role, active=True,
                           email=f"{username}@dpmptsp.example", password_hash=_password_hash())
            session.add(officer)
            set_lanes(officer, lanes)
        session.flush()
        manager = session.scalars(select(User).where(User.username == "manajer")).one()
        assign_manager(session, manager, "building_permit", None, "admin", c.clock)


def file_row(c: Container, number: str) -> ApplicationFile:
    with c.db.unit_of_work() as session:
        return get_file(session, number)


def notices(c: Container) -> list[tuple[str, str, str]]:
    """(scope, level, recipient) of every notice, in creation order."""
    with c.db.unit_of_work() as session:
        rows = session.execute(select(Notice.task_key, Notice.level, User.username)
                               .join(User, User.id == Notice.recipient_id).order_by(Notice.id)).all()
    return [("task" if key else "file", level, username) for key, level, username in rows]


class CapturingSender:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def send(self, message: Any) -> None:
        self.messages.append(message)


def run_deliveries(c: Container, publisher: RecordingPublisher, sender: Any) -> list[Outcome]:
    """Run every deliver_notice job published so far, as a worker would."""
    jobs = [j for j in publisher.jobs if j.name == DELIVER_JOB]
    publisher.jobs[:] = [j for j in publisher.jobs if j.name != DELIVER_JOB]
    return [deliver(c, j.args[0], sender=sender) for j in jobs]
