"""What each step needs beside its form: the documents to check, the fee to collect, the permit
about to be signed, the papers to hand over, the documents still missing.

Which panel a step gets comes from its diagram: the user task's ``taskContext`` extension property
when it has one, otherwise the name of its form (``*_document_check.json`` checks documents,
``*_payment.json`` collects the fee, ...), so a new diagram that reuses the naming of ``forms/`` gets
its panels without code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalogue.fees import FeeLine, fee_breakdown_lines
from app.catalogue.services import Catalogue
from app.engine.models import HumanTask
from app.engine.runtime import Runtime
from app.engine.step_kinds import DOCUMENTS, HANDOVER, PAYMENT, RESUBMISSION, context_kind
from app.files.intake import ChecklistRow, document_checklist, permit_intake
from app.files.models import ApplicationFile
from app.files.services import file_attachments, missing_documents
from app.permits.models import Permit
from app.permits.services import permits_of_file


@dataclass
class StepContext:
    kind: str | None
    file: ApplicationFile | None
    checklist: list[ChecklistRow] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # labels of documents the office found missing
    fee: Any = None
    fee_lines: list[FeeLine] = field(default_factory=list)
    permits: list[Permit] = field(default_factory=list)  # issued ones (handover)


def step_context(session: Session, runtime: Runtime, cat: Catalogue, task: HumanTask) -> StepContext:
    """What the task page shows beside the form of ``task``."""
    file = session.scalars(select(ApplicationFile).where(ApplicationFile.instance_id == task.instance_id)).first()
    instance = file.instance if file is not None else None
    kind = context_kind(instance.definition.user_tasks or {}, task) if instance is not None else None
    context = StepContext(kind, file)
    if file is None or instance is None or kind is None:
        return context
    if kind == DOCUMENTS:
        context.checklist = document_checklist(file, file_attachments(session, file))
    elif kind == RESUBMISSION:
        intake = permit_intake(file.process_id)
        labels = intake.document_labels if intake else {}
        context.missing = [labels.get(k, k) for k in missing_documents(session, file)]
    elif kind == PAYMENT and cat.get(file.process_id) is not None:
        data = runtime.data(instance)
        context.fee = data.get(cat.entry(file.process_id).fee.fee_variable)
        context.fee_lines = fee_breakdown_lines(cat, file.process_id, data)
    elif kind == HANDOVER:
        context.permits = permits_of_file(session, file)
    return context
