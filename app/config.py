"""Settings, read once from environment variables with typed defaults.

The embedded defaults (SQLite database and SQLite-backed Celery broker under
``./var/``) need no setting at all. Every setting is listed in the README.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("PTSP_VAR_DIR", ROOT / "var"))


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: f"sqlite:///{_var_dir() / 'ptsp.sqlite'}")
    broker_url: str = field(default_factory=lambda: f"sqla+sqlite:///{_var_dir() / 'broker.sqlite'}")
    result_backend: str = ""
    secret_key: str = "dev-only-change-me"  # noqa: S105 (embedded default; production sets PTSP_SECRET_KEY)
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    var_dir: Path = field(default_factory=_var_dir)
    timezone: str = "Asia/Jakarta"
    # The office's name, printed at the head of receipts.
    office_name: str = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"
    include_cuti_bersama: bool = True
    # Days an incomplete file waits for the applicant before it is closed.
    resubmission_days: int = 14
    # How often beat sweeps for due timers, and publishes a worker heartbeat.
    timer_sweep_seconds: float = 30.0
    heartbeat_seconds: float = 15.0
    heartbeat_max_age_seconds: float = 90.0
    # Largest form submission accepted (bytes of JSON).
    max_form_bytes: int = 256 * 1024
    # Largest request body (attachments are uploaded with the intake form).
    max_upload_bytes: int = 20 * 1024 * 1024
    # Send cookies only over HTTPS; set true behind TLS in production.
    secure_cookies: bool = False
    # Reverse proxies in front of the web server (X-Forwarded-For/Proto/Host are trusted
    # from this many hops); without it, every client has the proxy's address and the
    # sign-in and tracking throttles become office-wide.
    proxy_hops: int = 0
    max_bpmn_bytes: int = 2 * 1024 * 1024
    # -- SLA, escalations and notices (README: "SLA and escalations") --
    # Office hours (local time): a deadline of n working days ends at the close of the n-th working day.
    office_hours: str = "08:00-16:00"
    # How often a process re-reads the administrators' calendar changes outside a transaction.
    calendar_refresh_seconds: float = 10.0
    # Legal limit of a file whose process has no entry in the permit catalogue.
    sla_default_working_days: int = 10
    # Working days left when a file enters warning / critical; the same for one step's own due time.
    sla_warning_days: float = 3.0
    sla_critical_days: float = 1.0
    sla_task_warning_days: float = 0.5
    sla_task_critical_days: float = 0.25
    # Who is told at each level: LEVEL=GROUP[,GROUP];... (groups: officers, managers, head, admins).
    sla_escalation: str = "warning=officers;critical=managers;breached=head"
    sla_sweep_seconds: float = 60.0
    sla_sweep_batch: int = 500
    # Notices by email as well as in the in-app inbox.
    notify_email: bool = True
    notify_max_attempts: int = 8
    notify_retry_seconds: float = 30.0
    # A claimed delivery is retried by another worker after this long (must exceed smtp_timeout_seconds).
    notify_lease_seconds: float = 120.0
    # A pending delivery whose job has not run after this long is enqueued again by the sweep.
    notify_requeue_seconds: float = 120.0
    # SMTP; with no host, mails are written as .eml files under var/mail/.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "PTSP <ptsp@localhost>"
    smtp_timeout_seconds: float = 30.0
    # -- Evidence and signatures (README: "Evidence and signatures") --
    # The office's signing certificate as a PKCS#12 file; its password comes from the environment
    # (PTSP_SIGNING_PKCS12_PASSWORD), never from the database. Empty: a DEMO CA and certificate
    # are made under var/signing/ on first use.
    signing_pkcs12: str = ""
    signing_pkcs12_password: str = ""
    # An RFC 3161 time-stamping authority: permits are then signed PAdES B-T instead of B-B.
    tsa_url: str = ""
    # Printed in the permit's signature appearance.
    signer_name: str = "Kepala Dinas"
    signer_nip: str = "-"
    # Retention (`ptsp retention`): attachments of files closed longer than this are removed.
    retention_days: int = 5 * 365

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from ``PTSP_*`` environment variables, then ``overrides``."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"PTSP_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls(), f.name)
            if isinstance(default, bool):
                values[f.name] = _bool(raw)
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            elif isinstance(default, Path):
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        # Conventional names win over nothing but lose to PTSP_* ones.
        if "database_url" not in values and os.environ.get("DATABASE_URL"):
            values["database_url"] = os.environ["DATABASE_URL"]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
