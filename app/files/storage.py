"""Attachments: uploaded documents stored once by content (sha256) under var/.

Only PDF, JPEG and PNG are accepted (checked by their first bytes, not their
names), up to a size limit. A file is written to a temporary name and renamed
into place, so a crash never leaves a half-written document.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from app.clock import Clock
from app.files.models import Attachment

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


def store_upload(session: Session, var_dir: Path, clock: Clock, file_id: int, upload: FileStorage,
                 document_type: str, actor: str, max_bytes: int) -> Attachment:
    """Store one uploaded document of a file and record it; returns the attachment row."""
    digest = hashlib.sha256()
    size = 0
    target_dir = attachments_dir(var_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".upload-")
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
        final = target_dir / sha256
        if final.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, final)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    attachment = Attachment(file_id=file_id, document_type=document_type or "lainnya",
                            filename=_safe_name(upload.filename or "dokumen"), content_type=content_type, size=size,
                            sha256=sha256, uploaded_at=clock.now(), uploaded_by=actor)
    session.add(attachment)
    session.flush()
    return attachment


def attachment_reference(attachment: Attachment) -> str:
    """The reference a form stores for an attachment."""
    return f"att-{attachment.id}"


def attachment_path(var_dir: Path, attachment: Attachment) -> Path:
    return attachments_dir(var_dir) / attachment.sha256


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:255] or "dokumen"
