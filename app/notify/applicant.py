"""Notices to the applicant: documents missing, permit ready, application refused.

:class:`ApplicantNotifier` is a runtime listener: in the transaction of the step that opens the
resubmission, the handover or the refusal handover (the step kinds of
:mod:`app.engine.step_kinds`), it writes one notice row with an email delivery to the address
the applicant gave at registration, through the same outbox as the officers' notices (the delivery
is enqueued after commit and retried by :mod:`app.notify.delivery`). Each notice has an
idempotency key per file and event (and per resubmission step, since documents can be returned
twice), so a repeat never mails twice. No address, no notice. The mail is in Indonesian.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.catalogue import Catalogue
from app.config import Settings
from app.engine.models import HumanTask
from app.engine.runtime import InstanceChange
from app.engine.step_kinds import HANDOVER, REFUSAL, RESUBMISSION, context_kind
from app.files.models import ApplicationFile
from app.files.services import file_of_change
from app.notify.delivery import DELIVER_JOB
from app.notify.models import Delivery, DeliveryStatus, Notice
from app.publisher import enqueue_after_commit

DOCUMENTS_MISSING = "documents_missing"
PERMIT_READY = "permit_ready"
REFUSED = "refused"
_EVENT_OF_KIND = {RESUBMISSION: DOCUMENTS_MISSING, HANDOVER: PERMIT_READY, REFUSAL: REFUSED}


def applicant_email(file: ApplicationFile) -> str | None:
    email = (file.applicant or {}).get("email") if isinstance(file.applicant, dict) else None
    return str(email).strip() or None if email else None


def _document_labels(catalogue: Catalogue, process_id: str) -> dict[str, str]:
    entry = catalogue.get(process_id)
    return {r.key: r.label.get("id") or r.key for r in entry.requirements} if entry is not None else {}


def notify_applicant(session: Session, file: ApplicationFile, event: str, detail: dict[str, Any], *, key: str,
                     now: datetime, email: bool, requeue_after: timedelta) -> int | None:
    """One notice to the applicant of ``file`` (none without an address, none twice for ``key``);
    its id when it was created now."""
    address = applicant_email(file)
    if address is None:
        return None
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (insert(Notice).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(Notice.id))
    notice_id = session.scalar(statement, {
        "file_id": file.id, "human_task_id": None, "task_key": 0, "level": event, "recipient_id": None,
        "created_at": now, "idempotency_key": key,
        "detail": {"audience": "applicant", "event": event, "file_number": file.file_number,
                   "applicant_name": file.applicant_name, **detail}})
    if notice_id is None:
        return None
    if email:
        delivery_id = session.scalar(sqlalchemy.insert(Delivery).returning(Delivery.id), {
            "notice_id": notice_id, "channel": "email", "address": address, "status": DeliveryStatus.PENDING, "attempts": 0,
            "created_at": now, "next_attempt_at": now, "watch_at": now + requeue_after})
        enqueue_after_commit(session, DELIVER_JOB, delivery_id)
    return notice_id


class ApplicantNotifier:
    """Runtime listener: tells the applicant when their documents are missing, their permit is ready,
    or their application was refused."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.requeue_after = timedelta(seconds=settings.notify_requeue_seconds)

    def instance_changed(self, session: Session, change: InstanceChange) -> None:
        user_tasks = change.instance.definition.user_tasks or {}
        events: list[tuple[str, HumanTask]] = [(_EVENT_OF_KIND[kind], task) for task in change.opened
                                               if (kind := context_kind(user_tasks, task)) in _EVENT_OF_KIND]
        if not events:
            return
        file = file_of_change(session, change)
        if file is None or applicant_email(file) is None:
            return
        data = change.data()  # the state just written, not loaded again
        for event, task in events:
            detail: dict[str, Any] = {"permit_type": change.instance.definition.name, "step": task.title,
                                      "timezone": self.settings.timezone}
            key = f"applicant:{file.id}:{event}"
            if event == DOCUMENTS_MISSING:
                labels = _document_labels(self.catalogue, file.process_id)
                missing = data.get("missing_documents") or []
                detail["missing"] = [labels.get(str(k), str(k)) for k in missing] if isinstance(missing, list) else []
                detail["act_by"] = task.due_at.isoformat() if task.due_at is not None else None
                # Documents can be returned more than once: one notice per resubmission step (its
                # engine id: the row's own id is not assigned before the step's flush).
                key = f"{key}:{task.task_guid}"
            elif event == REFUSED:
                detail["reason"] = str(data.get("refusal_reason") or "")
            notify_applicant(session, file, event, detail, key=key, now=change.now,
                             email=self.settings.notify_email, requeue_after=self.requeue_after)
