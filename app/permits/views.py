"""Permit documents (HTML and PDF), the fee notice (SKRD), revocation, and the public verification page."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from app.auth.security import permission_required
from app.catalogue.fees import fee_breakdown_lines
from app.catalogue.services import CatalogueEntry
from app.container import container
from app.db import request_session
from app.evidence.documents import signed_permit, stored_document
from app.files.models import ApplicationFile
from app.files.services import get_file, may_read_files
from app.i18n import N_, current_language, fmt_date, gettext
from app.permits.models import Permit
from app.permits.services import (
    PrintedPermit,
    RevocationInvalid,
    Signer,
    draft_permits,
    file_signer,
    get_permit,
    may_revoke,
    office_letterhead,
    permit_pdf,
    permit_signer,
    permits_of_file,
    qr_svg,
    revoke_permit,
    signer_of,
    verification_token,
    verify_token,
)
from app.permits.webforms import RevokeForm

bp = Blueprint("permits", __name__)


@bp.app_context_processor
def _letterhead() -> dict[str, Any]:
    return {"letterhead": lambda: office_letterhead(container().settings)}
F = TypeVar("F", bound=Callable[..., Any])


VERIFY_TEXT = {
    "valid": N_("Izin ini ASLI dan BERLAKU."),
    "not_yet_valid": N_("Izin ini asli, tetapi belum berlaku."),
    "expired": N_("Izin ini asli, tetapi masa berlakunya telah habis."),
    "revoked": N_("Izin ini asli, tetapi TELAH DICABUT."),
    "invalid": N_("Kode verifikasi tidak dikenal: dokumen ini tidak diterbitkan oleh kantor ini atau telah diubah."),
}


_file_reader_required = permission_required(may_read_files)


def _file(file_number: str) -> ApplicationFile:
    return get_file(request_session(), file_number)


def _file_with_process(file_number: str) -> tuple[ApplicationFile, dict[str, Any]]:
    """The file and its process data (404 for a file without a process)."""
    file = _file(file_number)
    if file.instance is None:
        abort(404)
    return file, container().runtime.data(file.instance)


def _permit(permit_id: int) -> Permit:
    return get_permit(request_session(), permit_id)


def _entry(process_id: str) -> CatalogueEntry | None:
    return container().catalogue.get(process_id)


# -- the fee notice ----------------------------------------------------------------------------
@bp.get("/files/<file_number>/skrd")
@_file_reader_required
def skrd(file_number: str) -> ResponseReturnValue:
    c = container()
    file = _file(file_number)
    entry = _entry(file.process_id)
    if file.instance is None or entry is None:
        abort(404)
    data = c.runtime.data(file.instance)
    lines = fee_breakdown_lines(c.catalogue, file.process_id, data)
    return render_template("permits/skrd.html", file=file, entry=entry, data=data, lines=lines,
                           fee=data.get(entry.fee.fee_variable), office_name=c.settings.office_name,
                           printed_at=c.clock.now())


# -- permit documents ---------------------------------------------------------------------------
@bp.get("/files/<file_number>/permits")
@_file_reader_required
def of_file(file_number: str) -> ResponseReturnValue:
    file = _file(file_number)
    permits = permits_of_file(request_session(), file)
    return render_template("permits/list.html", file=file, permits=permits, entries=container().catalogue.entries)


def _verify_url(permit: Permit) -> str:
    return url_for("permits.verify", token=verification_token(permit, container().settings.secret_key), _external=True)


@bp.get("/permits/<int:permit_id>")
@_file_reader_required
def show(permit_id: int) -> ResponseReturnValue:
    permit = _permit(permit_id)
    url = _verify_url(permit)
    return render_template("permits/permit.html", permit=permit, entry=_entry(permit.process_id), verify_url=url,
                           qr=Markup(qr_svg(url)), office_name=container().settings.office_name,  # noqa: S704 (our own SVG)
                           may_revoke=may_revoke(current_user), preview=False,
                           signer=permit_signer(request_session(), permit, container().settings))


@bp.get("/files/<file_number>/permit-preview")
@_file_reader_required
def preview(file_number: str) -> ResponseReturnValue:
    """The permits a file is about to be granted, drawn by the code that will issue them, marked as a preview."""
    c = container()
    file = _file(file_number)
    if file.instance is None or _entry(file.process_id) is None:
        abort(404)
    drafts = draft_permits(c.catalogue, file, c.runtime.data(file.instance), c.clock.now(), ZoneInfo(c.settings.timezone))
    for draft in drafts:
        draft.file = file
    # The officer about to sign sees their own name under the signature.
    response = Response(render_template("permits/preview.html", file=file, permits=drafts, entry_of=_entry,
                                        office_name=c.settings.office_name,
                                        signer=signer_of(current_user._get_current_object())))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/files/<file_number>/handover-sheet")
@_file_reader_required
def handover_sheet(file_number: str) -> ResponseReturnValue:
    """The handover sheet (berita acara serah terima) to print and sign when the applicant collects:
    the one sheet, with the satisfaction survey's link and QR code once the permit is handed over."""
    from app.skm.views import survey_invitation

    c = container()
    file, data = _file_with_process(file_number)
    return render_template("permits/handover_sheet.html", file=file, permits=permits_of_file(request_session(), file),
                           data=data, office_name=c.settings.office_name,
                           printed_at=c.clock.now(), entry=_entry(file.process_id), **survey_invitation(file))


@bp.get("/files/<file_number>/refusal-letter")
@_file_reader_required
def refusal_letter(file_number: str) -> ResponseReturnValue:
    """The refusal letter (surat penolakan) of a file its signer refused, with the reason given."""
    c = container()
    file, data = _file_with_process(file_number)
    if data.get("decision") != "tolak" and data.get("outcome") != "refused":
        abort(404)
    return render_template("permits/refusal_letter.html", file=file, data=data, entry=_entry(file.process_id),
                           office_name=c.settings.office_name, printed_at=c.clock.now(),
                           signer=file_signer(request_session(), file))


@bp.get("/permits/<int:permit_id>.pdf")
@_file_reader_required
def pdf(permit_id: int) -> ResponseReturnValue:
    return _signed_pdf_response(_permit(permit_id))


def _signed_pdf_response(permit: Permit) -> ResponseReturnValue:
    """The permit's signed PDF (signed at its first download, then served as kept)."""
    # The official document is in Indonesian, whatever the language of who downloads it first.
    g.lang = "id"
    settings = container().settings
    signer = permit_signer(request_session(), permit, settings)
    document = signed_permit(request_session(), settings, permit, lambda: permit_pdf(_printed(permit, signer)),
                             signer_name=signer.name, signer_nip=signer.nip or "-")
    response = Response(document.data, mimetype="application/pdf")
    safe = permit.permit_number.replace("/", "-")
    response.headers["Content-Disposition"] = f'inline; filename="izin-{safe}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-SHA256"] = document.sha256
    return response


def _printed(permit: Permit, signer: Signer) -> PrintedPermit:
    entry = _entry(permit.process_id)
    lang = current_language()
    facts = [(gettext("Pemegang izin"), permit.holder_name)]
    if permit.business_name:
        facts.append((gettext("Nama usaha"), permit.business_name))
    if permit.location:
        facts.append((gettext("Lokasi"), permit.location))
    facts += [(row["label"].get(lang, row["label"].get("id", "")), row["value"]) for row in permit.details.get("rows", [])]
    facts.append((gettext("Berlaku mulai"), fmt_date(permit.valid_from)))
    facts.append((gettext("Berlaku sampai"), fmt_date(permit.valid_until) if permit.valid_until
                  else gettext("selama memenuhi ketentuan")))
    if permit.revoked_at:
        facts.append((gettext("Dicabut"), fmt_date(permit.revoked_at)))
    title = entry.product.name.get(lang, entry.product.name["id"]) if entry else permit.process_id
    return PrintedPermit(
        office_address=container().settings.office_address, office_logo=container().settings.office_logo,
        signer_name=signer.name, signer_nip=signer.nip or "",
        office_name=container().settings.office_name, title=title, permit_number=permit.permit_number, facts=facts,
        conditions_title=gettext("Ketentuan"), conditions=list(permit.conditions),
        verify_note=gettext("Pindai kode QR untuk memeriksa keaslian dan masa berlaku izin ini."),
        verify_url=_verify_url(permit), issued_line=gettext("Diterbitkan") + ": " + fmt_date(permit.issued_at),
        signer_title=gettext("Kepala Dinas"))


@bp.post("/permits/<int:permit_id>/revoke")
@_file_reader_required
def revoke(permit_id: int) -> ResponseReturnValue:
    c = container()
    form = RevokeForm(request.form)
    if not form.validate():
        if not may_revoke(current_user):
            abort(403)
        flash(gettext(str(form.reason.errors[0])), "error")
        return redirect(url_for("permits.show", permit_id=permit_id))
    try:
        revoke_permit(request_session(), permit_id, current_user._get_current_object(), form.reason.data, c.clock)
    except RevocationInvalid as refused:  # said on the permit's page, not an error page
        request_session().rollback()
        flash(refused.user_message(), "error")
        return redirect(url_for("permits.show", permit_id=permit_id))
    flash(gettext("Izin dicabut."), "ok")
    return redirect(url_for("permits.show", permit_id=permit_id))


# -- public verification ------------------------------------------------------------------------
@bp.get("/verify/<token>")
def verify(token: str) -> ResponseReturnValue:
    c = container()
    today = c.calendar.local_date(c.clock.now())
    result = verify_token(request_session(), token[:100], c.settings.secret_key, today)
    permit = result.permit
    response = Response(render_template(
        "permits/verify.html", result=result, text=VERIFY_TEXT[result.status], permit=permit,
        entry=_entry(permit.process_id) if permit else None, office_name=c.settings.office_name,
        document=stored_document(c.settings, permit) if permit else None, token=token),
        status=200 if result.genuine else 404)
    response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
    return response


@bp.get("/verify/<token>/permit.pdf")
def verify_pdf(token: str) -> ResponseReturnValue:
    """The signed permit for whoever holds its verification code (the QR code on the paper)."""
    c = container()
    result = verify_token(request_session(), token[:100], c.settings.secret_key, c.calendar.local_date(c.clock.now()))
    if result.permit is None:
        abort(404)
    return _signed_pdf_response(result.permit)
