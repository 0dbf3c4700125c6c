"""Notice mails: bilingual text (Bahasa Indonesia first, English below) and the
two ways to send them: SMTP, or (no SMTP host set) an .eml file under var/mail/."""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.config import Settings
from app.i18n import N_

log = logging.getLogger(__name__)

LEVEL_WORDS = {
    "warning": (N_("Peringatan"), "Warning"),
    "critical": (N_("Kritis"), "Critical"),
    "breached": (N_("Melewati batas waktu"), "Past the deadline"),
}
SCOPE_WORDS = {
    "file": ("batas waktu layanan berkas", "the file's service deadline"),
    "task": ("batas waktu tahap ini", "this step's due time"),
}


class SendFailed(Exception):
    """Sending failed; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


# Called the moment the server has accepted the message (SMTP "250" after DATA), before the
# connection is closed: the delivery records "sent" there (see app/notify/delivery.py).
OnAccepted = Callable[[], None]


def _days(value: float) -> tuple[str, str]:
    text = f"{abs(value):.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ","), text


def _local(iso: str, tz_name: str) -> str:
    when = datetime.fromisoformat(iso).astimezone(ZoneInfo(tz_name))
    return f"{when:%d-%m-%Y %H:%M} {when.tzname()}"


def render(level: str, detail: dict[str, Any], recipient_name: str) -> tuple[str, str]:
    """(subject, plain-text body) of a notice mail."""
    level_id, level_en = LEVEL_WORDS.get(level, (level, level))
    scope_id, scope_en = SCOPE_WORDS.get(detail.get("scope", "file"), SCOPE_WORDS["file"])
    number = detail.get("file_number") or "-"
    step = detail.get("step") or "-"
    due = _local(detail["due_at"], detail.get("timezone", "Asia/Jakarta"))
    left = float(detail.get("working_days_left", 0))
    left_id, left_en = _days(left)
    if left > 0:
        time_id, time_en = f"sisa {left_id} hari kerja", f"{left_en} working day(s) left"
    else:
        time_id, time_en = f"terlambat {left_id} hari kerja", f"{left_en} working day(s) overdue"
    subject = f"[PTSP] {level_id} / {level_en}: {number} - {step}"
    body = "\n".join([
        f"Yth. {recipient_name},",
        "",
        f"{level_id}: {scope_id} berkas {number} ({detail.get('permit_type', '-')}).",
        "",
        f"  Nomor berkas : {number}",
        f"  Jenis izin   : {detail.get('permit_type', '-')}",
        f"  Tahap        : {step}",
        f"  Petugas      : {detail.get('officer', '-')}",
        f"  Batas waktu  : {due}",
        f"  Sisa waktu   : {time_id}",
        "",
        "Mohon segera ditindaklanjuti. Pesan ini dikirim otomatis oleh sistem PTSP;",
        "tandai sudah dibaca di kotak masuk aplikasi.",
        "",
        "-- English --",
        "",
        f"Dear {recipient_name},",
        "",
        f"{level_en}: {scope_en} of file {number} ({detail.get('permit_type', '-')}).",
        "",
        f"  File number  : {number}",
        f"  Permit type  : {detail.get('permit_type', '-')}",
        f"  Step         : {step}",
        f"  Officer      : {detail.get('officer', '-')}",
        f"  Deadline     : {due}",
        f"  Time left    : {time_en}",
        "",
        "Please act on it. This message was sent automatically by the PTSP service;",
        "acknowledge it in the application's inbox.",
        "",
    ])
    return subject, body


APPLICANT_SUBJECTS = {
    "documents_missing": "Dokumen permohonan belum lengkap",
    "permit_ready": "Izin Anda sudah terbit",
    "refused": "Permohonan Anda tidak dapat dikabulkan",
}


def render_applicant(event: str, detail: dict[str, Any], recipient_name: str) -> tuple[str, str]:
    """(subject, plain-text body) of a notice to an applicant, in Indonesian."""
    number = detail.get("file_number") or "-"
    lines = [f"Yth. {recipient_name},", "",
             f"Berkas permohonan {detail.get('permit_type', '-')} nomor {number}:", ""]
    if event == "documents_missing":
        lines.append("Dokumen persyaratan berikut belum lengkap atau belum benar:")
        lines += [f"  - {label}" for label in detail.get("missing") or []] or ["  - (lihat catatan petugas)"]
        lines.append("")
        if detail.get("act_by"):
            by = _local(detail["act_by"], detail.get("timezone", "Asia/Jakarta"))
            lines.append(f"Mohon serahkan kelengkapannya ke loket paling lambat {by}.")
        else:
            lines.append("Mohon serahkan kelengkapannya ke loket.")
        lines.append("Selama menunggu kelengkapan, jangka waktu layanan tidak berjalan.")
    elif event == "permit_ready":
        lines += ["Izin Anda sudah ditandatangani dan terbit.",
                  "Silakan datang ke loket dengan membawa bukti pendaftaran untuk menerima dokumen izin."]
    elif event == "refused":
        lines.append("Dengan menyesal kami sampaikan bahwa permohonan Anda tidak dapat dikabulkan.")
        if detail.get("reason"):
            lines += ["", f"Alasan: {detail['reason']}"]
        lines += ["", "Surat penolakan dapat diambil di loket. Anda dapat mengajukan permohonan baru",
                  "atau menyampaikan pengaduan."]
    lines += ["", "Status berkas dapat dilacak dengan nomor berkas dan PIN pada bukti pendaftaran.",
              "Pesan ini dikirim otomatis oleh sistem PTSP; mohon tidak dibalas.", ""]
    return f"[PTSP] {APPLICANT_SUBJECTS.get(event, event)}: {number}", "\n".join(lines)


def message_id(notice_id: int, delivery_id: int, sender: str) -> str:
    """The same Message-ID on every attempt of one delivery, so a receiver can
    recognise a repeat (the only window for one is a crash between the server's
    acceptance and our record of it; see app/notify/delivery.py)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ptsp.localhost"
    return f"<ptsp.notice-{notice_id}.delivery-{delivery_id}@{domain}>"


def build_message(settings: Settings, *, notice_id: int, delivery_id: int, level: str, detail: dict[str, Any],
                  created_at: datetime, recipient_name: str, address: str) -> EmailMessage:
    applicant = detail.get("audience") == "applicant"
    subject, body = render_applicant(level, detail, recipient_name) if applicant else render(level, detail, recipient_name)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = formataddr((recipient_name, address))
    message["Date"] = format_datetime(created_at)
    message["Message-ID"] = message_id(notice_id, delivery_id, settings.smtp_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message["Content-Language"] = "id" if applicant else "id, en"  # after set_content, which drops Content-*
    return message


class SmtpSender:
    """Sends through an SMTP server (PTSP_SMTP_*)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, on_accepted: OnAccepted | None = None) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
                if on_accepted is not None:
                    on_accepted()  # before QUIT: its round trip is outside the duplicate window
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendFailed(f"recipient refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise SendFailed(f"SMTP {exc.smtp_code}: {text}", permanent=exc.smtp_code >= 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc


class FileSender:
    """The embedded default: each mail becomes ``<mail_dir>/<message id>.eml``.

    The name comes from the deterministic Message-ID and the file is written
    atomically, so sending the same delivery again leaves one file.
    """

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    def send(self, message: EmailMessage) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").partition("@")[0] + ".eml"
        path = self.mail_dir / name
        fd, tmp = tempfile.mkstemp(dir=self.mail_dir, prefix=".sending-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(message.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise SendFailed(f"could not write {path}: {exc}") from exc
        log.info("mail to %s written to %s (no PTSP_SMTP_HOST set): %s", message["To"], path, message["Subject"])


def make_sender(settings: Settings) -> Sender:
    if settings.smtp_host:
        return SmtpSender(settings)
    return FileSender(settings.var_dir / "mail")
