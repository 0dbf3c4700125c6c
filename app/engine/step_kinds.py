"""Which kind of step a user task is (what its task page shows beside the form, and whether the
permit is issued when it opens), read from the diagram: the task's ``taskContext`` extension
property, else the name of its form (``*_document_check.json`` checks documents, ...)."""
from __future__ import annotations

from typing import Any

from app.engine.models import HumanTask

DOCUMENTS = "documents"
PAYMENT = "payment"
SIGNATURE = "signature"
HANDOVER = "handover"
REFUSAL = "refusal"
RESUBMISSION = "resubmission"
KINDS = (DOCUMENTS, PAYMENT, SIGNATURE, HANDOVER, REFUSAL, RESUBMISSION)
# Form name endings of forms/ and the panel each means; the first match wins.
_BY_FORM = (("_refusal_handover.json", REFUSAL), ("_handover.json", HANDOVER), ("_document_check.json", DOCUMENTS),
            ("_payment.json", PAYMENT), ("_signature.json", SIGNATURE), ("_resubmission.json", RESUBMISSION))


def context_kind(user_tasks: dict[str, Any], task: HumanTask) -> str | None:
    """The panel ``task`` gets: its ``taskContext`` property, else the one its form's name says."""
    properties = (user_tasks.get(task.task_name) or {}).get("properties") or {}
    chosen = str(properties.get("taskContext") or "").strip()
    if chosen in KINDS:
        return chosen
    form = task.form or ""
    return next((kind for ending, kind in _BY_FORM if form.endswith(ending)), None)
