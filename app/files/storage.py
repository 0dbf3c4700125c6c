"""Attachments: uploaded documents stored once by content (sha256) under var/.

Only PDF, JPEG and PNG are accepted (checked by their first bytes, not their
names), up to a size limit.

Documents reach ``var/attachments/<sha256>`` only after the transaction that
records them commits: an upload is first written to the staging area
(``var/attachments/staging/<sha256>-<token>``, :func:`stage_upload`), then
recorded (:func:`record_staged`, an ``Attachment`` row), and renamed into place
once the session commits. A transaction that never commits (an error, a
refused form, kill -9) leaves at most a staged file, which
:func:`sweep_attachments` (``ptsp attachments sweep`` and the beat task
``workers.tasks.sweep_attachments``) removes after a grace period -- or
promotes, when a commit recorded it but the process died before the rename.

The staging API serves two callers: a request that stores its uploads with the
step it completes (:func:`store_upload` = stage + record), and a form refused
for another field that keeps its accepted uploads: stage them, hand the
``token`` back to the browser, and on the next submission find the same file
again with :func:`find_staged` (only by its unguessable token) and
:func:`record_staged` it. Staged files nobody records are swept.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from app.clock import Clock
from app.files.models import Attachment
from app.i18n import N_

ALLOWED = {  # content type -> magic prefix
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
CHUNK = 64 * 1024


class UploadRefused(ValueError):
    """An upload that is not a PDF, JPEG or PNG, is empty, or is too large."""

    def __init__(self, message: str, kind: str = "type") -> None:
        self.kind = kind  # type|empty|size
        super().__init__(message)


@dataclass(frozen=True)
class UploadCheck:
    sha256: str
    size: int
    content_type: str


def check_upload(upload: FileStorage, max_bytes: int) -> UploadCheck:
    """What :func:`store_upload` would store, without writing anything; raises
    :class:`UploadRefused` for what it would refuse. The stream is rewound."""
    stream = upload.stream
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        while chunk := stream.read(CHUNK):
            if len(head) < 16:
                head += chunk[:16]
            size += len(chunk)
            if size > max_bytes:
                raise UploadRefused(f"{upload.filename}: larger than {max_bytes // (1024 * 1024)} MB", "size")
            digest.update(chunk)
    finally:
        stream.seek(0)
    if size == 0:
        raise UploadRefused(f"{upload.filename}: the file is empty", "empty")
    content_type = _content_type(head)
    if content_type is None:
        raise UploadRefused(f"{upload.filename}: only PDF, JPEG and PNG documents are accepted", "type")
    return UploadCheck(digest.hexdigest(), size, content_type)


def _content_type(head: bytes) -> str | None:
    return next((ct for ct, magic in ALLOWED.items() if head.startswith(magic)), None)


def attachments_dir(var_dir: Path) -> Path:
    return var_dir / "attachments"


@dataclass(frozen=True)
class StagedFile:
    """An upload written to the staging area, checked, not yet recorded."""

    token: str  # 32 hex characters, unguessable: the only way to find the file again
    sha256: str
    size: int
    content_type: str
    path: Path


_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The session's staged files to rename into place once it commits.
_PROMOTE = "attachments_to_promote"


def staging_dir(var_dir: Path) -> Path:
    return attachments_dir(var_dir) / "staging"


def stage_upload(var_dir: Path, upload: FileStorage, max_bytes: int) -> StagedFile:
    """Write ``upload`` to the staging area and check it (PDF/JPEG/PNG by content, not empty, at
    most ``max_bytes``); raises :class:`UploadRefused` and leaves nothing when it is refused.
    Nothing is recorded: see :func:`record_staged`; unrecorded staged files are swept."""
    digest = hashlib.sha256()
    size = 0
    target_dir = staging_dir(var_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            while chunk := upload.stream.read(CHUNK):
                if len(head) < 16:
                    head += chunk[:16]
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(f"{upload.filename}: larger than {max_bytes // (1024 * 1024)} MB", "size")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadRefused(f"{upload.filename}: the file is empty", "empty")
        content_type = _content_type(head)
        if content_type is None:
            raise UploadRefused(f"{upload.filename}: only PDF, JPEG and PNG documents are accepted", "type")
        sha256 = digest.hexdigest()
        path = target_dir / f"{sha256}-{token}"
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return StagedFile(token, sha256, size, content_type, path)


def find_staged(var_dir: Path, token: str) -> StagedFile | None:
    """The staged file of ``token`` (from :func:`stage_upload`), or None when it is unknown or swept."""
    if not _TOKEN.match(token):
        return None
    for path in staging_dir(var_dir).glob(f"*-{token}"):
        sha256 = path.name.split("-", 1)[0]
        with path.open("rb") as fh:
            content_type = _content_type(fh.read(16))
        if _SHA256.match(sha256) and content_type is not None:
            return StagedFile(token, sha256, path.stat().st_size, content_type, path)
    return None


def record_staged(session: Session, clock: Clock, file_id: int, staged: StagedFile, filename: str,
                  document_type: str, actor: str) -> Attachment:
    """Record ``staged`` as a document of the file; it is renamed into ``var/attachments/`` once
    the session commits (never before: a transaction that does not commit leaves no document)."""
    attachment = Attachment(file_id=file_id, document_type=document_type or N_("lainnya"),
                            filename=_safe_name(filename or "dokumen"), content_type=staged.content_type,
                            size=staged.size, sha256=staged.sha256, uploaded_at=clock.now(), uploaded_by=actor)
    session.add(attachment)
    session.flush()
    session.info.setdefault(_PROMOTE, []).append(staged.path)
    return attachment


def store_upload(session: Session, var_dir: Path, clock: Clock, file_id: int, upload: FileStorage,
                 document_type: str, actor: str, max_bytes: int) -> Attachment:
    """Stage one uploaded document of a file and record it (:func:`stage_upload`, :func:`record_staged`);
    the document is in place once the caller commits."""
    staged = stage_upload(var_dir, upload, max_bytes)
    return record_staged(session, clock, file_id, staged, upload.filename or "dokumen", document_type, actor)


def _promote(staged_path: Path) -> bool:
    """Rename a staged file to its place; True when it was there to rename."""
    final = staged_path.parent.parent / staged_path.name.split("-", 1)[0]
    try:
        if final.exists():
            staged_path.unlink()
        else:
            os.replace(staged_path, final)
    except FileNotFoundError:
        return False
    return True


@event.listens_for(Session, "after_commit")
def _promote_committed(session: Session) -> None:
    for path in session.info.pop(_PROMOTE, []):
        _promote(path)


@event.listens_for(Session, "after_rollback")
def _forget_uncommitted(session: Session) -> None:
    # The staged files stay for a resubmission (find_staged) until the sweep removes them.
    session.info.pop(_PROMOTE, None)


@dataclass(frozen=True)
class SweepReport:
    removed_staged: int  # uploads of transactions that never committed
    promoted: int  # recorded by a commit, left in staging by a process that died before the rename
    removed_orphans: int  # documents in place with no attachment row (older code, restored backups)


def sweep_attachments(session: Session, var_dir: Path, grace: timedelta, now: float | None = None) -> SweepReport:
    """Remove staged uploads older than ``grace`` that no attachment records, promote those one
    does, and remove documents in place that no attachment row names. File ages are compared
    with the wall clock (``now``, epoch seconds; file times are wall-clock times)."""
    cutoff = (time.time() if now is None else now) - grace.total_seconds()
    base = attachments_dir(var_dir)
    if not base.is_dir():
        return SweepReport(0, 0, 0)

    def old(path: Path) -> bool:
        try:
            return path.stat().st_mtime < cutoff
        except FileNotFoundError:
            return False

    def recorded(sha256: str) -> bool:
        return session.scalar(select(Attachment.id).where(Attachment.sha256 == sha256).limit(1)) is not None

    removed_staged = promoted = removed_orphans = 0
    staging = staging_dir(var_dir)
    for path in sorted(staging.iterdir()) if staging.is_dir() else []:
        if not path.is_file() or not old(path):
            continue
        sha256 = path.name.split("-", 1)[0]
        if _SHA256.match(sha256) and recorded(sha256) and not (base / sha256).exists():
            promoted += _promote(path)
        else:
            path.unlink(missing_ok=True)
            removed_staged += 1
    for path in sorted(base.iterdir()):
        if not path.is_file() or not old(path):
            continue
        if path.name.startswith(".upload-") or (_SHA256.match(path.name) and not recorded(path.name)):
            path.unlink(missing_ok=True)
            removed_orphans += 1
    return SweepReport(removed_staged, promoted, removed_orphans)


def attachment_reference(attachment: Attachment) -> str:
    """The reference a form stores for an attachment."""
    return f"att-{attachment.id}"


def attachment_path(var_dir: Path, attachment: Attachment) -> Path:
    return attachments_dir(var_dir) / attachment.sha256


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:255] or "dokumen"
