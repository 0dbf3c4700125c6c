"""Signed permit documents: signed once, kept under var/permits/ by their SHA-256, served as kept.

The signed bytes never change after the first signing, so the SHA-256 shown on the public
verification page is the hash of the document the holder has.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app.config import Settings
from app.evidence.keys import office_identity
from app.evidence.pdfsign import sign_pdf
from app.permits.models import Permit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedDocument:
    data: bytes
    sha256: str


def documents_dir(settings: Settings) -> Path:
    return settings.var_dir / "permits"


def stored_document(settings: Settings, permit: Permit) -> SignedDocument | None:
    """The permit's signed PDF if it was made already."""
    if not permit.signed_pdf_sha256:
        return None
    path = documents_dir(settings) / f"{permit.signed_pdf_sha256}.pdf"
    if not path.exists():
        log.warning("signed PDF of permit %s (%s) is missing from %s", permit.permit_number,
                    permit.signed_pdf_sha256, path.parent)
        return None
    return SignedDocument(path.read_bytes(), permit.signed_pdf_sha256)


def signed_permit(session: Session, settings: Settings, permit: Permit, render: Callable[[], bytes], *,
                  signer_name: str, signer_nip: str) -> SignedDocument:
    """The permit's signed PDF: the kept one, or ``render()`` signed by the office now in the name of
    its signer, and kept. The one place permit PDFs are signed."""
    kept = stored_document(settings, permit)
    if kept is not None:
        return kept
    data = sign_pdf(render(), office_identity(settings), signer_name=signer_name, signer_nip=signer_nip,
                    office_name=settings.office_name, tsa_url=settings.tsa_url)
    digest = hashlib.sha256(data).hexdigest()
    folder = documents_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temp, folder / f"{digest}.pdf")
    permit.signed_pdf_sha256 = digest
    session.flush()
    return SignedDocument(data, digest)
