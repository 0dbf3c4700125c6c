"""Issuing permits when a file is granted, verifying them, revoking them, and printing them.

A permit is issued by :class:`PermitIssuer`, a runtime listener: in the same transaction as the
step that finishes a file with ``outcome == "granted"``, one row per permit type of the file (one
for a single permit, one per member of a bundle), with the number its diagram assigned.

Its verification token is ``<verification_id>.<mac>``: a random id stored with the permit and an
HMAC-SHA256 (keyed by the application secret) over the permit number and that id. A token that was
made up, altered or copied onto another number does not verify; a genuine one tells whether the
permit still holds (not revoked, not expired).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import catalogue
from app.auth.models import User
from app.catalogue.services import Catalogue, CatalogueEntry, get_path
from app.clock import Clock
from app.config import Settings
from app.engine.errors import NotFound
from app.engine.models import HumanTask, InstanceEvent, InstanceStatus, TaskStatus
from app.engine.runtime import InstanceChange
from app.engine.step_kinds import HANDOVER, SIGNATURE, context_kind
from app.errors import Conflict, Forbidden, Invalid
from app.files.models import ApplicationFile
from app.files.services import file_of_change
from app.i18n import N_
from app.permits.models import Permit

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^([0-9a-f]{24})\.([A-Za-z0-9_-]{24})$")
REVOKERS_LANE = "head"


class NotAllowed(Forbidden):
    """The user may not do this; nothing was changed."""


class RevocationInvalid(Invalid):
    """The revocation cannot be recorded as asked; nothing was changed."""

    message = N_("Alasan pencabutan paling sedikit 10 karakter.")


class AlreadyRevoked(Conflict, RevocationInvalid):
    """The permit was revoked before (perhaps a moment ago, by someone else); nothing was changed."""

    message = N_("Izin ini sudah dicabut.")


# -- issuing ---------------------------------------------------------------------------------------
def draft_permits(cat: Catalogue, file: ApplicationFile, data: Mapping[str, Any], now: datetime,
                  zone: ZoneInfo) -> list[Permit]:
    """The permits ``data`` grants, as they will be issued (not added to any session): the signature
    step previews exactly these."""
    drafts = []
    today = now.astimezone(zone).date()
    given = data.get("permit_numbers")
    numbers: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    single = not cat.entry(file.process_id).is_bundle
    for member in cat.members(file.process_id):
        # A single permit's diagram may set only permit_number (the building permit does).
        number = numbers.get(member.process_id) or (data.get("permit_number") if single else None)
        if not number:
            log.error("file %s was granted but its process set no permit number for %s", file.file_number, member.process_id,
                      extra={"file_number": file.file_number})
            continue
        product = member.product
        valid_from = _as_date(get_path(data, product.valid_from_from)) or today
        drafts.append(Permit(
            file_id=file.id, process_id=member.process_id, permit_number=str(number)[:100],
            holder_name=file.applicant_name, business_name=_text(get_path(data, "business.name"), 200),
            location=_text(get_path(data, product.location_from), 300),
            conditions=[str(c) for c in (get_path(data, product.conditions_from) or []) if str(c).strip()],
            details=_details(member, data), issued_at=now, valid_from=valid_from,
            valid_until=_valid_until(member, data, valid_from), verification_id=secrets.token_hex(12),
        ))
    return drafts


def issue_permits(session: Session, cat: Catalogue, file: ApplicationFile, data: Mapping[str, Any], now: datetime,
                  zone: ZoneInfo) -> list[Permit]:
    """The permits of a granted file, created once (a permit number already issued is skipped)."""
    issued = []
    for permit in draft_permits(cat, file, data, now, zone):
        with session.no_autoflush:
            exists = session.scalar(select(Permit.id).where(Permit.permit_number == permit.permit_number))
        if exists is not None:
            continue
        session.add(permit)
        issued.append(permit)
    session.flush()
    return issued


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _valid_until(entry: CatalogueEntry, data: Mapping[str, Any], valid_from: date) -> date | None:
    until = _as_date(get_path(data, entry.product.valid_until_from))
    if until is not None:
        return until
    years = get_path(data, entry.product.validity_years_from)
    if isinstance(years, int) and not isinstance(years, bool) and years > 0:
        try:
            return valid_from.replace(year=valid_from.year + years)
        except ValueError:  # 29 February
            return valid_from.replace(year=valid_from.year + years, day=28)
    return None


def _details(entry: CatalogueEntry, data: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for item in entry.product.details:
        value = get_path(data, item["from"])
        if value in (None, "", []):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        rows.append({"label": dict(item["label"]), "value": text[:500]})
    return {"rows": rows}


def validity_problems(cat: Catalogue, process_id: str, data: Mapping[str, Any], today: date) -> dict[str, str]:
    """Validity dates in a step's ``data`` that would print a permit expiring before it starts: the
    field path (``a/b``) of each "valid until" that falls before its "valid from" (or, without one,
    before ``today``, the issue date), with the Indonesian reason."""
    if cat.get(process_id) is None:
        return {}
    problems: dict[str, str] = {}
    for member in cat.members(process_id):
        product = member.product
        until = _as_date(get_path(data, product.valid_until_from))
        if until is None or not product.valid_until_from:
            continue
        start = _as_date(get_path(data, product.valid_from_from)) or today
        if until < start:
            problems[product.valid_until_from.replace(".", "/")] = (
                N_("Tanggal berlaku sampai tidak boleh sebelum tanggal berlaku mulai atau tanggal terbit."))
    return problems


class PermitIssuer:
    """Runtime listener: issues the permits of a file whose process ends with outcome "granted"."""

    def __init__(self, settings: Settings) -> None:
        self.zone = ZoneInfo(settings.timezone)

    def instance_changed(self, session: Session, change: InstanceChange) -> None:
        # The permit exists once it is signed: when its handover opens (so the front desk prints the real
        # document), or at the end of a procedure that grants it without a handover step.
        user_tasks = change.instance.definition.user_tasks or {}
        handing_over = any(context_kind(user_tasks, task) == HANDOVER for task in change.opened)
        finished = change.finished and change.instance.status == InstanceStatus.COMPLETED
        if not handing_over and not finished:
            return
        if not handing_over and any(task.status == TaskStatus.COMPLETED and context_kind(user_tasks, task) == HANDOVER
                                    for task in change.closed):
            return  # the end of a handover: its permits were issued when it opened
        data = change.data()  # the state just written, not loaded again
        if not handing_over and data.get("outcome") != "granted":
            return
        file = file_of_change(session, change)
        if file is None:
            return
        cat = catalogue.current()
        if cat.get(file.process_id) is None:
            log.warning("file %s was granted, but %s has no catalogue entry: no permit issued",
                        file.file_number, file.process_id, extra={"file_number": file.file_number})
            return
        issue_permits(session, cat, file, data, change.now, self.zone)


# -- the letterhead and the signer -------------------------------------------------------------
@dataclass(frozen=True)
class Letterhead:
    name: str
    address: str
    logo: str  # a data: URI of the logo, or ""


_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
_logo_cache: dict[tuple[str, float], str] = {}


def office_letterhead(settings: Settings) -> Letterhead:
    """The office's name, address and logo (Settings.office_logo: a PNG, JPEG or SVG file), for the head of
    permits and letters; a logo that cannot be read is left out (and logged)."""
    return Letterhead(settings.office_name, settings.office_address, _logo_uri(settings.office_logo))


def _logo_uri(path_text: str) -> str:
    if not path_text:
        return ""
    path = Path(path_text)
    kind = _LOGO_TYPES.get(path.suffix.lower())
    try:
        stamp = (str(path), path.stat().st_mtime)
        if kind is None:
            raise OSError(f"not a PNG, JPEG or SVG file: {path}")
        if stamp not in _logo_cache:
            _logo_cache.clear()
            _logo_cache[stamp] = f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
        return _logo_cache[stamp]
    except OSError as exc:
        log.error("the office logo %s cannot be used: %s", path_text, exc)
        return ""


@dataclass(frozen=True)
class Signer:
    name: str
    nip: str | None


def signer_of(user: User | None) -> Signer | None:
    return Signer(user.full_name, user.nip) if user is not None else None


def file_signer(session: Session, file: ApplicationFile) -> Signer | None:
    """Who completed the file's signature step (the step kind of app.engine.step_kinds), if anyone."""
    if file.instance_id is None or file.instance is None:
        return None
    user_tasks = file.instance.definition.user_tasks or {}
    signing = {name for name, info in user_tasks.items()
               if context_kind(user_tasks, HumanTask(task_name=name, form=info.get("form"))) == SIGNATURE}
    if not signing:
        return None
    actor = session.scalar(select(InstanceEvent.actor).where(
        InstanceEvent.instance_id == file.instance_id, InstanceEvent.kind == "task_completed",
        InstanceEvent.task_name.in_(signing)).order_by(InstanceEvent.id.desc()).limit(1))
    if actor is None:
        return None
    return signer_of(session.scalars(select(User).where(User.username == actor)).first())


def permit_signer(session: Session, permit: Permit, settings: Settings) -> Signer:
    """Who signs a permit, on its face and in its PDF signature alike: the head who completed the
    file's signature step; the configured signer (PTSP_SIGNER_NAME/NIP) only when none is recorded."""
    return file_signer(session, permit.file) or Signer(settings.signer_name, settings.signer_nip)


# -- verification ------------------------------------------------------------------------------
def _mac(secret: str, permit_number: str, verification_id: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"ptsp-permit|{permit_number}|{verification_id}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def verification_token(permit: Permit, secret: str) -> str:
    """The token printed (as a QR code) on ``permit``."""
    return f"{permit.verification_id}.{_mac(secret, permit.permit_number, permit.verification_id)}"


@dataclass(frozen=True)
class Verification:
    status: str  # valid|not_yet_valid|expired|revoked|invalid
    permit: Permit | None = None

    @property
    def genuine(self) -> bool:
        return self.permit is not None


def verify_token(session: Session, token: str, secret: str, today: date) -> Verification:
    """Whether ``token`` belongs to a permit this office issued, and whether that permit holds on ``today``."""
    match = _TOKEN.match((token or "").strip())
    if match is None:
        return Verification("invalid")
    verification_id, mac = match.groups()
    permit = session.scalars(select(Permit).where(Permit.verification_id == verification_id)).first()
    expected = _mac(secret, permit.permit_number if permit else "-", verification_id)
    if not hmac.compare_digest(expected, mac) or permit is None:
        return Verification("invalid")
    if permit.revoked_at is not None:
        return Verification("revoked", permit)
    if permit.valid_until is not None and today > permit.valid_until:
        return Verification("expired", permit)
    if today < permit.valid_from:
        return Verification("not_yet_valid", permit)
    return Verification("valid", permit)


# -- reading and revoking -----------------------------------------------------------------------
def file_outcome(session: Session, file: ApplicationFile) -> str:
    """``granted`` when the file issued a permit, else ``refused`` (for a file whose procedure ended)."""
    issued = session.scalar(select(Permit.id).where(Permit.file_id == file.id).limit(1))
    return "granted" if issued is not None else "refused"


def permits_of_file(session: Session, file: ApplicationFile) -> list[Permit]:
    return list(session.scalars(select(Permit).where(Permit.file_id == file.id).order_by(Permit.id)))


def get_permit(session: Session, permit_id: int) -> Permit:
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise NotFound(f"no permit {permit_id}")
    return permit


def may_revoke(user: Any) -> bool:
    """The head of office (lane "head") and administrators revoke permits."""
    return getattr(user, "role", None) == "admin" or REVOKERS_LANE in (getattr(user, "lane_names", None) or set())


def revoke_permit(session: Session, permit_id: int, user: User, reason: str, clock: Clock) -> Permit:
    """Revoke a permit with a written reason; its verification page says so from now on."""
    if not may_revoke(user):
        raise NotAllowed(f"{user.username!r} may not revoke permits")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise RevocationInvalid("a revocation needs a written reason of at least 10 characters")
    permit = get_permit(session, permit_id)
    if permit.revoked_at is not None:
        raise AlreadyRevoked(f"permit {permit.permit_number} was already revoked")
    permit.revoked_at = clock.now()
    permit.revoked_by = user.username
    permit.revocation_reason = reason[:2000]
    session.flush()
    return permit


# -- printing -----------------------------------------------------------------------------------
def qr_svg(text: str) -> str:
    """An SVG QR code of ``text`` (no image library needed)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg


def qr_drawing(text: str, size: float) -> Any:
    """A ReportLab drawing ``size`` points square: the QR code of ``text`` (ReportLab's own widget,
    error correction M and a quiet zone of two modules, as the SVG of :func:`qr_svg`)."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text, barLevel="M", barBorder=2)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


@dataclass(frozen=True)
class PrintedPermit:
    """What the permit document shows, in one language."""

    office_name: str
    title: str
    permit_number: str
    facts: list[tuple[str, str]]
    conditions_title: str
    conditions: list[str]
    verify_note: str
    verify_url: str
    issued_line: str
    signer_title: str = "Kepala Dinas"
    office_address: str = ""
    signer_name: str = ""
    signer_nip: str = ""
    office_logo: str = ""  # Settings.office_logo: drawn on the PDF when it is a PNG or JPEG file


def _pdf_logo(path_text: str, size: float) -> Any | None:
    """The office logo as a flowable of ``size`` points, or None (no logo, an SVG, or unreadable)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    path = Path(path_text) if path_text else None
    if path is None or path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        return None
    try:
        ImageReader(str(path)).getSize()  # read now: a broken file must not break the permit
        return Image(str(path), width=size, height=size, kind="proportional")
    except (OSError, ValueError) as exc:
        log.error("the office logo %s cannot be drawn on the permit: %s", path_text, exc)
        return None


def permit_pdf(printed: PrintedPermit) -> bytes:
    """The permit as an A4 PDF with its verification QR code."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{printed.title} {printed.permit_number}", author=printed.office_name)
    head: list[Any] = [Paragraph(escape(printed.office_name), styles["Heading4"]),
                       *([Paragraph(escape(printed.office_address), styles["BodyText"])] if printed.office_address else [])]
    logo = _pdf_logo(printed.office_logo, 20 * mm)
    letterhead: list[Any] = head if logo is None else [
        Table([[logo, head]], colWidths=[24 * mm, 146 * mm],
              style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))]
    story: list[Any] = [
        *letterhead,
        Paragraph(escape(printed.title.upper()), styles["Title"]),
        Paragraph(f"<b>{escape(printed.permit_number)}</b>", styles["Heading3"]),
        Spacer(1, 4 * mm),
    ]
    table = Table([[Paragraph(escape(k), styles["BodyText"]), Paragraph(escape(v), styles["BodyText"])]
                   for k, v in printed.facts], colWidths=[50 * mm, 120 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    story += [table, Spacer(1, 4 * mm)]
    if printed.conditions:
        story.append(Paragraph(escape(printed.conditions_title), styles["Heading4"]))
        story.append(ListFlowable([Paragraph(escape(c), styles["BodyText"]) for c in printed.conditions],
                                  bulletType="1"))
    size = 40 * mm
    drawing = qr_drawing(printed.verify_url, size)
    story += [Spacer(1, 6 * mm),
              Table([[drawing, Paragraph(f"{escape(printed.verify_note)}<br/><font size=8>{escape(printed.verify_url)}</font>"
                                         f"<br/><br/>{escape(printed.issued_line)}", styles["BodyText"])]],
                    colWidths=[size + 6 * mm, 170 * mm - size - 6 * mm],
                    style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])),
              Spacer(1, 8 * mm),
              Table([["", Paragraph(f"{escape(printed.signer_title)}<br/><br/><br/><br/>______________________"
                                    + (f"<br/><b>{escape(printed.signer_name)}</b>" if printed.signer_name else "")
                                    + (f"<br/>NIP {escape(printed.signer_nip)}" if printed.signer_nip else ""),
                                    styles["BodyText"])]], colWidths=[110 * mm, 60 * mm])]
    doc.build(story)
    return buffer.getvalue()
