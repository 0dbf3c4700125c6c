"""Intake at the front desk: a new application, its documents and its receipt.

Registering is one unit of work. Everything the officer typed and every upload
is checked first (the form's JSON Schema, the NIK against the date of birth and
sex, the documents by their first bytes) without writing anything; only when all
is well is the file opened, its documents stored, its first step (the
registration form) completed, the applicant recorded, a tracking PIN issued and
the completion date promised, in the caller's transaction.
"""
from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from app import catalogue
from app.auth.models import User
from app.config import Settings
from app.engine.definitions import latest_definition, list_definitions, require_latest_definition
from app.engine.errors import NotFound
from app.engine.history import append_event
from app.engine.models import HumanTask, ProcessDefinition, open_task
from app.engine.runtime import Runtime
from app.errors import Invalid
from app.files.days import WorkingDays
from app.files.models import ApplicationFile, Attachment
from app.files.nik import validate_nik
from app.files.pins import hash_tracking_pin, new_tracking_pin
from app.files.services import (
    get_file,
    handed_in_documents,
    open_file,
    promised_date,
    promised_working_days,
)
from app.files.storage import UploadRefused, attachment_reference, check_upload, store_upload
from app.forms.registry import FormRegistry
from app.forms.values import parse_submission
from app.i18n import N_, current_language, gettext

# Document types that are not a requirement of the permit type but may be handed in.
EXTRA_DOCUMENT_LABELS = {"surat_kuasa": N_("Surat kuasa"), N_("lainnya"): N_("Dokumen lain")}


@dataclass(frozen=True)
class PermitIntake:
    """What the front desk needs of a permit type, read from its catalogue entry (app/catalogue)."""

    process_id: str
    first_task: str  # the user task the registration form completes
    required_documents: tuple[str, ...]
    document_labels: dict[str, str]  # document type -> label in the current language
    fee_formula: str  # in the current language, as published
    fee_set_after: tuple[str, ...]  # the steps whose data the fee is computed from


def permit_intake(process_id: str) -> PermitIntake | None:
    """The front desk's view of a permit type's catalogue entry; None when it has none."""
    entry = catalogue.current().get(process_id)
    if entry is None:
        return None
    lang = current_language()
    labels = {key: gettext(label) for key, label in EXTRA_DOCUMENT_LABELS.items()}
    labels.update({r.key: _text(r.label, lang) for r in entry.requirements})
    return PermitIntake(
        process_id=entry.process_id,
        first_task=entry.registration_task,
        required_documents=tuple(entry.required_documents()),
        document_labels=labels,
        fee_formula=_text(entry.fee.formula, lang),
        fee_set_after=tuple(dict.fromkeys(str(i["step"]) for i in entry.fee.inputs if i.get("step"))),
    )


def _text(text: dict[str, str], lang: str) -> str:
    return text.get(lang) or text.get("id") or next(iter(text.values()), "")




class IntakeInvalid(Invalid):
    """What the officer entered cannot be registered; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path or '(form)'}: {message}" for path, message in errors.items()))


@dataclass
class StagedUpload:
    """An upload checked but not stored yet."""

    upload: FileStorage
    sha256: str = ""
    size: int = 0
    content_type: str = ""
    error: str | None = None


class IntakeTarget(NamedTuple):
    """A permit type the front desk can register: its intake entry, its deployed definition and the
    name of its registration form (:func:`intake_for`), read once per request."""

    intake: PermitIntake
    definition: ProcessDefinition
    form: str


@dataclass
class IntakeSubmission:
    """A submitted registration form: the form's JSON, with each upload standing in as a
    provisional reference until the file exists and the upload is stored."""

    target: IntakeTarget
    data: dict[str, Any]
    uploads: dict[str, StagedUpload] = field(default_factory=dict)

    @property
    def process_id(self) -> str:
        return self.target.intake.process_id


@dataclass
class Registration:
    file: ApplicationFile
    pin: str  # shown once, on the receipt printed right after registration
    attachments: list[Attachment]


# -- permit types ---------------------------------------------------------------------
def intake_options(session: Session) -> list[tuple[PermitIntake, ProcessDefinition]]:
    """Permit types the front desk can register now: deployed and in the catalogue, in catalogue order."""
    deployed = {d.process_id: d for d, _ in list_definitions(session)}
    options = []
    for entry in catalogue.entries():
        intake = permit_intake(entry.process_id) if entry.process_id in deployed else None
        if intake is not None:
            options.append((intake, deployed[entry.process_id]))
    return options


def intake_for(session: Session, process_id: str) -> IntakeTarget:
    """The intake entry, the deployed definition and the registration form of ``process_id``."""
    intake = permit_intake(process_id)
    definition = latest_definition(session, process_id) if intake else None
    if intake is None or definition is None:
        raise NotFound(f"permit type {process_id!r} cannot be registered at the front desk")
    form = (definition.user_tasks.get(intake.first_task) or {}).get("form")
    if not form:
        raise NotFound(f"process {process_id!r} has no form on its step {intake.first_task!r}")
    return IntakeTarget(intake, definition, form)


def initial_data(intake: PermitIntake) -> dict[str, Any]:
    """An empty registration form with one attachment row per required document."""
    return {"attachments": [{"document_type": t} for t in intake.required_documents]}


def redisplay_data(intake: PermitIntake, data: dict[str, Any], uploads: dict[str, StagedUpload] | None = None,
                   keep: Callable[[FileStorage], str] | None = None) -> dict[str, Any]:
    """The submitted form to show again beside its errors. Uploads are not stored until the form
    is accepted: each one that passed its checks is kept aside by ``keep`` (its token and name
    shown with its row, app/files/kept_uploads.py), a refused one is chosen again; rows of
    required documents left empty follow, so the error indexes still match."""
    shown = dict(data)
    rows = [r for r in data.get("attachments", []) if isinstance(r, dict)]
    kept = []
    for row in rows:
        staged = (uploads or {}).get(str(row.get("reference", "")))
        item = {k: v for k, v in row.items() if k not in ("reference", "sha256")}
        if keep is not None and staged is not None and staged.error is None:
            item["kept"], item["kept_name"] = keep(staged.upload), staged.upload.filename
        kept.append(item)
    present = {r.get("document_type") for r in kept}
    shown["attachments"] = kept + [{"document_type": t} for t in intake.required_documents if t not in present]
    return shown


# -- reading and registering ----------------------------------------------------------
def read_submission(schema: dict[str, Any], target: IntakeTarget, form: MultiDict[str, str],
                    files: MultiDict[str, FileStorage], max_bytes: int) -> IntakeSubmission:
    """The registration form as JSON, each upload checked (type, size, sha256) but not stored."""
    uploads: dict[str, StagedUpload] = {}

    def stage(upload: FileStorage, _path: str) -> dict[str, Any]:
        token = f"staged-{secrets.token_hex(8)}"
        staged = StagedUpload(_seekable(upload))
        try:
            check = check_upload(staged.upload, max_bytes)
        except UploadRefused as refused:
            staged.error = _refusal_message(refused, max_bytes)
        else:
            staged.sha256, staged.size, staged.content_type = check.sha256, check.size, check.content_type
        uploads[token] = staged
        # A refused upload gets a well-formed stand-in digest: its error is reported on its row.
        return {"reference": token, "sha256": staged.sha256 or "0" * 64}

    data = parse_submission(schema, form, files, stage)
    return IntakeSubmission(target, data, uploads)


def intake_errors(forms: FormRegistry, form_name: str, submission: IntakeSubmission,
                  today: date | None = None) -> dict[str, str]:
    """Every problem of a submission by field path (``""`` for the whole form); empty when it can be registered."""
    data = submission.data
    errors: dict[str, str] = {}
    for error in forms.validate(form_name, data):
        path = error.field
        head, _, last = path.rpartition("/")
        if head.startswith("attachments/") and last in ("reference", "sha256"):
            path = head  # filled by the server; the row itself is what the officer sees
        errors.setdefault(path, error.message)
    applicant = data.get("applicant")
    if isinstance(applicant, dict) and isinstance(applicant.get("nik"), str) and "applicant/nik" not in errors:
        problems = validate_nik(applicant["nik"], applicant.get("birth_date"), applicant.get("sex"), today)
        if problems:
            errors["applicant/nik"] = " ".join(problems)
    rows = data.get("attachments")
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        staged = submission.uploads.get(row.get("reference", "")) if isinstance(row, dict) else None
        if staged is None:  # a reference the browser made up: only uploads of this submission count
            errors[f"attachments/{index}"] = gettext("Pilih berkas dokumen ini.")
        elif staged.error:
            errors[f"attachments/{index}"] = staged.error
    return errors


class CompleteStep(Protocol):
    """How an officer completes a task: ``app.worklist.completion.complete_task``, given by the
    container (the worklist depends on files, so files does not import it)."""

    def __call__(self, session: Session, runtime: Runtime, forms: FormRegistry, task_id: int, data: Any,
                 user: User) -> HumanTask: ...


def register_application(session: Session, runtime: Runtime, forms: FormRegistry, settings: Settings,
                         calendar: WorkingDays, submission: IntakeSubmission, officer: User,
                         complete_step: CompleteStep) -> Registration:
    """Register an application received at the front desk, as one unit of work.

    Raises :class:`IntakeInvalid` (with every field's error) before anything is
    written or stored when the submission cannot be registered. Otherwise opens
    the file, stores its documents (sha256 recorded), completes its first step
    with the form as ``officer`` (with ``complete_step``: the same rules as any
    task), records the applicant, issues a tracking PIN
    (only its hash is kept) and the promised completion date. Flushes; the
    caller commits.
    """
    intake, definition, form_name = submission.target  # read by the caller (intake_for), in this transaction
    now = runtime.clock.now()
    errors = intake_errors(forms, form_name, submission, calendar.local_date(now))
    if errors:
        raise IntakeInvalid(errors)

    data = submission.data
    applicant = data["applicant"]
    file = open_file(session, runtime, settings, intake.process_id, applicant["full_name"], officer.username,
                     definition=definition)
    attachments = []
    for row in data.get("attachments", []):
        staged = submission.uploads[row["reference"]]
        attachment = store_upload(session, settings.var_dir, runtime.clock, file.id, staged.upload,
                                  row["document_type"], officer.username, settings.max_upload_bytes)
        row["reference"], row["sha256"] = attachment_reference(attachment), attachment.sha256
        attachments.append(attachment)

    task = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == file.instance_id, open_task(),
        HumanTask.task_name == intake.first_task)).first()
    if task is None:
        raise NotFound(f"{file.file_number}: the process did not open its step {intake.first_task!r}")
    complete_step(session, runtime, forms, task.id, data, officer)

    file.applicant_nik = applicant["nik"]
    file.applicant = {
        **applicant,
        "address": data.get("applicant_address", {}),
        **{key: data[f"applicant_{key}"] for key in ("phone", "email", "npwp") if data.get(f"applicant_{key}")},
    }
    pin = new_tracking_pin()
    file.tracking_pin_hash = hash_tracking_pin(pin, settings.secret_key)
    file.promised_date = promised_date(calendar, settings, intake.process_id, now)
    session.flush()
    return Registration(file, pin, attachments)


def reissue_tracking_pin(session: Session, file_number: str, officer: User, now: datetime,
                         secret_key: str) -> tuple[ApplicationFile, str]:
    """A new tracking PIN for a file whose applicant lost theirs: the old one stops working at once and
    the file's history records who reissued it. Returns the file and the new PIN (shown once)."""
    file = get_file(session, file_number)
    if file.instance_id is None:
        raise NotFound(f"file {file_number!r} has no process")
    pin = new_tracking_pin()
    file.tracking_pin_hash = hash_tracking_pin(pin, secret_key)
    assert file.instance is not None
    append_event(session, file.instance, "pin_reissued", officer.username, now)  # chained into the history
    session.flush()
    return file, pin


# -- the receipt ----------------------------------------------------------------------
@dataclass
class ChecklistRow:
    document_type: str
    label: str
    required: bool
    documents: list[Attachment]


@dataclass
class Receipt:
    file: ApplicationFile
    permit_name: str
    received_at: datetime
    working_days: int
    checklist: list[ChecklistRow]
    fee_formula: str
    fee_note: str


def document_checklist(file: ApplicationFile, documents: list[Attachment]) -> list[ChecklistRow]:
    """The catalogue's requirement list of the file's permit type against ``documents``: one row per
    required document type (empty when missing), then the other types handed in."""
    intake = permit_intake(file.process_id)
    required = intake.required_documents if intake else ()
    labels = intake.document_labels if intake else {}
    kinds = list(required) + [d.document_type for d in documents if d.document_type not in required]
    return [ChecklistRow(kind, labels.get(kind, kind), kind in required,
                         [d for d in documents if d.document_type == kind])
            for kind in dict.fromkeys(kinds)]


def receipt(session: Session, settings: Settings, file_number: str) -> Receipt:
    """What the receipt (bukti pendaftaran) of a file shows."""
    file = get_file(session, file_number)
    intake = permit_intake(file.process_id)
    definition = file.instance.definition if file.instance is not None else require_latest_definition(
        session, file.process_id)
    checklist = document_checklist(file, handed_in_documents(session, file))
    steps = [str((definition.user_tasks.get(step) or {}).get("title") or step) for step in
             (intake.fee_set_after if intake else ())]
    return Receipt(file=file, permit_name=definition.name, received_at=file.created_at,
                   working_days=promised_working_days(file.process_id, settings), checklist=checklist,
                   fee_formula=intake.fee_formula if intake else "",
                   fee_note=gettext("Besarnya ditetapkan setelah: {steps}.", steps=", ".join(steps)) if steps else "")


# -- helpers --------------------------------------------------------------------------
def _refusal_message(refused: UploadRefused, max_bytes: int) -> str:
    if refused.kind == "size":
        return gettext("Berkas lebih besar dari {mb} MB.", mb=max_bytes // (1024 * 1024))
    if refused.kind == "empty":
        return gettext("Berkas kosong.")
    return gettext("Hanya dokumen PDF, JPEG atau PNG yang diterima.")


def _seekable(upload: FileStorage) -> FileStorage:
    """Uploads are read twice (checked, then stored); copy a stream that cannot rewind."""
    stream = upload.stream
    if getattr(stream, "seekable", lambda: False)():
        return upload
    copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (lives as long as the upload)
    while chunk := stream.read(64 * 1024):
        copy.write(chunk)
    copy.seek(0)
    return FileStorage(copy, filename=upload.filename, name=upload.name, content_type=upload.content_type)
