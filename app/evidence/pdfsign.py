"""Signing a finished permit PDF (PAdES) with the office's certificate, and checking one.

Signing is a separate step applied to the finished PDF bytes (whatever the layout): PAdES B-B,
or B-T with an RFC 3161 timestamp when a TSA URL is configured. The visible signature box names
the signer and their NIP; the permit's QR code is part of the signed page.
"""
from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from app.evidence.keys import OfficeIdentity

if TYPE_CHECKING:  # pyHanko loads on first use (a signature), not at import
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.validation.status import PdfSignatureStatus

FIELD_NAME = "TandaTanganElektronik"
# Bottom right of the last page, where a wet signature would go (A4 points).
STAMP_BOX = (330, 36, 565, 116)


def _signer(identity: OfficeIdentity) -> SimpleSigner:
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der = serialization.Encoding.DER
    key = asn1_keys.PrivateKeyInfo.load(identity.key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert = asn1_x509.Certificate.load(identity.certificate.public_bytes(der))
    chain = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in identity.ca_certificates]
    return signers.SimpleSigner(signing_cert=cert, signing_key=key,
                                cert_registry=SimpleCertificateStore.from_certs([cert, *chain]))


def sign_pdf(pdf: bytes, identity: OfficeIdentity, *, signer_name: str, signer_nip: str, office_name: str,
             tsa_url: str = "") -> bytes:
    """``pdf`` signed by the office: PAdES B-B, or B-T when ``tsa_url`` is set."""
    from pyhanko import stamp
    from pyhanko.pdf_utils import text
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        name=signer_name, location=office_name[:200],
        reason=f"Penerbitan izin oleh {signer_name} (NIP {signer_nip})")
    style = stamp.TextStampStyle(
        stamp_text=("Ditandatangani secara elektronik oleh\n%(signer)s\nNIP %(nip)s\n%(office)s\n%(ts)s"
                    + ("\nDEMO - tidak sah secara hukum" if identity.demo else "")),
        text_box_style=text.TextBoxStyle(font_size=7), border_width=1, background=None)
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    pdf_signer = signers.PdfSigner(meta, signer=_signer(identity), timestamper=timestamper, stamp_style=style,
                                   new_field_spec=fields.SigFieldSpec(FIELD_NAME, box=STAMP_BOX, on_page=-1))
    out = _run(lambda: pdf_signer.async_sign_pdf(writer, appearance_text_params={
        "signer": signer_name, "nip": signer_nip, "office": office_name[:60]}))
    signed: bytes = out.getvalue()
    return signed


def _run(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run one of pyHanko's coroutines from synchronous code, also when this thread already runs an
    event loop (pyHanko's own wrappers call asyncio.run, which refuses that)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass(frozen=True)
class SignCheck:
    verdict: str  # valid|invalid|modified|unsigned
    summary: str

    @property
    def exit_code(self) -> int:
        return {"valid": 0, "invalid": 1, "modified": 2, "unsigned": 3}[self.verdict]


def check_pdf(pdf: bytes, trust_pem: bytes) -> SignCheck:
    """pyHanko's validation of every signature in ``pdf`` against the CA(s) in ``trust_pem``:
    valid, invalid (a changed byte, an untrusted signer), or modified after signing."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(trust_pem, multiple=True)]
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as exc:
        return SignCheck("invalid", f"the PDF cannot be read as signed: {exc}")
    if not signatures:
        return SignCheck("unsigned", "the PDF carries no signature")
    notes = []
    for sig in signatures:
        try:
            context = ValidationContext(trust_roots=roots, allow_fetching=False)
            status = _run(functools.partial(async_validate_pdf_signature, sig, context))
        except Exception as exc:  # a damaged signature dictionary or CMS blob
            return SignCheck("invalid", f"signature {sig.field_name!r} cannot be validated: {exc}")
        who = status.signing_cert.subject.human_friendly if status.signing_cert else "unknown"
        if not (status.intact and status.valid):
            return SignCheck("invalid", f"signature {sig.field_name!r} by {who} does not match the document "
                                        "(the signed bytes were changed)")
        if not status.trusted:
            return SignCheck("invalid", f"signature {sig.field_name!r} by {who} is intact, but its certificate "
                                        "does not chain to the trusted office CA")
        if not _covers_document(status):
            return SignCheck("modified", f"signature {sig.field_name!r} by {who} is valid, but the document was "
                                         "modified after signing")
        when = status.timestamp_validity.timestamp.isoformat() if status.timestamp_validity else None
        notes.append(f"signed by {who}" + (f", timestamped {when}" if when else "")
                     + f" ({'PAdES B-T' if when else 'PAdES B-B'})")
    return SignCheck("valid", "; ".join(notes))


def _covers_document(status: PdfSignatureStatus) -> bool:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
