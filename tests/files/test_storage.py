"""Attachments are stored whole, once per content, and only of accepted types."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.container import Container
from app.files.models import Attachment
from app.files.services import open_file
from app.files.storage import UploadRefused, attachment_path, store_upload

PDF = b"%PDF-1.7\n" + b"isi dokumen " * 100


def _file_id(c: Container) -> int:
    with c.db.unit_of_work() as session:
        return open_file(session, c.runtime, c.settings, "building_permit", "Siti", "loket").id


def _store(c: Container, file_id: int, content: bytes, name: str = "ktp.pdf", limit: int = 1024 * 1024) -> Attachment:
    with c.db.unit_of_work() as session:
        return store_upload(session, c.settings.var_dir, c.clock, file_id, FileStorage(io.BytesIO(content), name),
                            "ktp", "loket", limit)


def test_pdf_is_stored_by_its_sha256(deployed: Container) -> None:
    file_id = _file_id(deployed)
    attachment = _store(deployed, file_id, PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (attachment.content_type, attachment.size) == ("application/pdf", len(PDF))
    assert attachment_path(deployed.settings.var_dir, attachment).read_bytes() == PDF
    again = _store(deployed, file_id, PDF, "salinan.pdf")
    assert again.sha256 == attachment.sha256 and again.id != attachment.id
    stored = [p for p in (deployed.settings.var_dir / "attachments").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [attachment.sha256]  # one copy, no temporary or staged leftovers


@pytest.mark.parametrize(("content", "message"), [
    (b"MZ\x90\x00 this is a program", "only PDF, JPEG and PNG"),
    (b"<html><script>alert(1)</script></html>", "only PDF, JPEG and PNG"),
    (b"", "empty"),
    (PDF * 2000, "larger than"),
])
def test_refused_uploads_leave_nothing_behind(deployed: Container, content: bytes, message: str) -> None:
    file_id = _file_id(deployed)
    with pytest.raises(UploadRefused, match=message):
        _store(deployed, file_id, content, limit=1024 * 1024)
    with deployed.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    folder = deployed.settings.var_dir / "attachments"
    assert not folder.exists() or [p for p in folder.rglob("*") if p.is_file()] == []


def test_path_tricks_in_names_are_flattened(deployed: Container) -> None:
    attachment = _store(deployed, _file_id(deployed), PDF, "../../etc/passwd.pdf")
    assert attachment.filename == "passwd.pdf"
    var_dir = deployed.settings.var_dir
    path = attachment_path(var_dir, attachment)
    # The document is there, whole, under its content's name inside var/attachments/ ...
    assert path.resolve().is_relative_to((var_dir / "attachments").resolve())
    assert path.name == attachment.sha256 and path.read_bytes() == PDF
    # ... and the name in the upload wrote nothing anywhere else: no passwd.pdf, no half-written part.
    assert [p for p in var_dir.rglob("*") if p.is_file()] == [path]
    assert list(var_dir.parent.rglob("passwd*")) == []
