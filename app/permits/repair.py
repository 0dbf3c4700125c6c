"""Permits signed but never issued, issued after an upgrade.

Since the permit is issued when its handover step opens (app.permits.services.PermitIssuer), the
end of a handover no longer looks for permits. A file whose handover opened under an earlier
version (which issued at the end of the process, or not at all) would therefore end without its
permit; so would a file granted before permits were issued at all. ``ptsp issue-missing-permits``
finds those files and issues their permits, dated when they were signed (the moment their handover
opened, else the moment the process ended granted).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app import catalogue
from app.engine.models import HumanTask, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from app.engine.runtime import Runtime
from app.engine.step_kinds import HANDOVER, context_kind
from app.files.models import ApplicationFile
from app.permits.models import Permit
from app.permits.services import draft_permits, issue_permits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingPermits:
    """One file whose permits were signed but not issued, and what was (or, in a dry run, would be) issued."""

    file_number: str
    signed_at: datetime
    permit_numbers: tuple[str, ...]


def issue_missing_permits(session: Session, runtime: Runtime, zone: ZoneInfo, *,
                          dry_run: bool = False) -> list[MissingPermits]:
    """Issue the permits of every file that has none although it reached its handover step (open or
    done) or ended with ``outcome == "granted"``. Running it again issues nothing more. ``dry_run``:
    say what would be issued, write nothing."""
    cat = catalogue.current()
    found = []
    for definition in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.id)):
        user_tasks = definition.user_tasks or {}
        handovers = [name for name, info in user_tasks.items()
                     if context_kind(user_tasks, HumanTask(task_name=name, form=info.get("form"))) == HANDOVER]
        rows = session.execute(
            select(ApplicationFile, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == ApplicationFile.instance_id)
            .where(ProcessInstance.definition_id == definition.id,
                   ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.COMPLETED]),
                   ~exists().where(Permit.file_id == ApplicationFile.id))
            .order_by(ApplicationFile.id)).all()
        for file, instance in rows:
            signed_at = _signed_at(session, instance, handovers)
            if signed_at is None or cat.get(file.process_id) is None:
                continue
            data = runtime.data(instance)
            if signed_at == instance.completed_at and data.get("outcome") != "granted":
                continue  # ended without a handover, and not granted
            if dry_run:
                numbers = [permit.permit_number for permit in draft_permits(cat, file, data, signed_at, zone)]
            else:
                numbers = [permit.permit_number for permit in issue_permits(session, cat, file, data, signed_at, zone)]
                log.warning("file %s: issued its missing permits %s, dated %s", file.file_number, ", ".join(numbers),
                            signed_at.isoformat(), extra={"file_number": file.file_number})
            if numbers:
                found.append(MissingPermits(file.file_number or str(file.id), signed_at, tuple(numbers)))
    return found


def _signed_at(session: Session, instance: ProcessInstance, handovers: list[str]) -> datetime | None:
    """When the file's permit was signed: its handover step opened (open or done, not cancelled), else
    its process ended (a procedure without a handover step); None while it is still before both."""
    if handovers:
        opened = session.scalar(select(HumanTask.created_at).where(
            HumanTask.instance_id == instance.id, HumanTask.task_name.in_(handovers),
            HumanTask.status.in_([TaskStatus.OPEN, TaskStatus.COMPLETED])).order_by(HumanTask.id).limit(1))
        if opened is not None:
            return opened
    return instance.completed_at if instance.status == InstanceStatus.COMPLETED else None
