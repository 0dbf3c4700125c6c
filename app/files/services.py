"""Opening an application file and reading its state."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.engine.definitions import require_latest_definition
from app.engine.errors import NotFound
from app.engine.models import HumanTask, InstanceEvent
from app.engine.runtime import Runtime
from app.files.models import ApplicationFile

# The prefix of file numbers per procedure; the permit catalogue will own these.
FILE_PREFIXES = {"building_permit": "PBG"}


def open_file(session: Session, runtime: Runtime, settings: Settings, process_id: str, applicant_name: str,
              actor: str) -> ApplicationFile:
    """Open a file for ``process_id``, give it its number and start its procedure."""
    definition = require_latest_definition(session, process_id)
    now = runtime.clock.now()
    file = ApplicationFile(process_id=process_id, applicant_name=applicant_name, created_at=now, created_by=actor)
    session.add(file)
    session.flush()  # the id makes the number unique without a second counter
    prefix = FILE_PREFIXES.get(process_id, process_id[:3].upper())
    file.file_number = f"{prefix}-{runtime.clock.now().year}-{file.id:06d}"
    instance = runtime.start(session, definition, {
        "file_number": file.file_number,
        "resubmission_days": settings.resubmission_days,
    }, actor)
    file.instance = instance
    session.flush()
    return file


def get_file(session: Session, file_number: str) -> ApplicationFile:
    file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == file_number)).first()
    if file is None:
        raise NotFound(f"no file {file_number!r}")
    return file


@dataclass
class FileState:
    file: ApplicationFile
    status: str
    open_tasks: list[HumanTask]
    history: list[InstanceEvent]
    data: dict[str, Any]
    error: str | None


def file_state(session: Session, runtime: Runtime, file_number: str) -> FileState:
    """Where a file stands: status, open steps, history and process data."""
    file = get_file(session, file_number)
    instance = file.instance
    if instance is None:
        raise NotFound(f"file {file_number!r} has no process")
    tasks = list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open").order_by(HumanTask.id)))
    history = list(session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == instance.id).order_by(InstanceEvent.id)))
    return FileState(file, instance.status, tasks, history, runtime.data(instance), instance.error)
