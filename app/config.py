"""Settings, read once from environment variables with typed defaults.

The embedded defaults (SQLite database and SQLite-backed Celery broker under
``./var/``) need no setting at all. Every setting is listed in the README.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("PTSP_VAR_DIR", ROOT / "var"))


def _bool(value: str) -> bool:
    word = value.strip().lower()
    if word not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
        raise ValueError(f"{value!r} is not a yes/no value (true/false, 1/0, yes/no, on/off)")
    return word in {"1", "true", "yes", "on"}


DEFAULT_SECRET_KEY = "dev-only-change-me"  # noqa: S105 (the embedded demo's; refused anywhere else)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The stores of the `limits` library this service supports (app/ratelimit.py).
RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


class SettingsError(ValueError):
    """Settings the service refuses to start with; the message lists every problem."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: f"sqlite:///{_var_dir() / 'ptsp.sqlite'}")
    broker_url: str = field(default_factory=lambda: f"sqla+sqlite:///{_var_dir() / 'broker.sqlite'}")
    result_backend: str = ""
    secret_key: str = DEFAULT_SECRET_KEY  # production sets PTSP_SECRET_KEY (it also keys the permit QR tokens)
    # "production" (or anything but empty/"demo") means this is not the embedded demo.
    env: str = ""
    # Address the web server of `make run` listens on; 0.0.0.0 exposes it to the network.
    bind_host: str = "127.0.0.1"
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    var_dir: Path = field(default_factory=_var_dir)
    timezone: str = "Asia/Jakarta"
    # The office's name, printed at the head of receipts.
    office_name: str = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"
    # The letterhead of permits and letters: the office's address and its logo (a PNG, JPEG or SVG file).
    office_address: str = ""
    office_logo: str = ""
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
    # Log lines (one JSON object each, on standard error) from this level up: DEBUG, INFO, WARNING, ERROR.
    log_level: str = "INFO"
    # Where sign-in, tracking and complaint limits are counted (app/ratelimit.py): memory:// is one
    # process's memory (the embedded demo); production uses Redis so every web process shares the counts.
    ratelimit_storage_url: str = "memory://"
    max_bpmn_bytes: int = 2 * 1024 * 1024
    # Staged uploads no commit recorded are removed after this long (longer than any request);
    # the beat task sweeps this often.
    attachment_grace_seconds: float = 3600.0
    attachment_sweep_seconds: float = 900.0
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
    # How often the dashboard's rollup rows catch up with new files and steps (app/desk/rollup.py).
    desk_rollup_seconds: float = 60.0
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
    # Diagram scripts run in this many pre-started script processes (per web or worker
    # process), each killed and replaced past the time budget; memory cap per process.
    script_processes: int = 2
    script_seconds: float = 2.0
    script_memory_mb: int = 512
    # Straight-line scripts and conditions (no loops, no calls, e.g. outcome = "granted") run in
    # the calling process under the same rules, without a script process's round trip.
    inline_scripts: bool = True
    # Workflows kept in memory per web or worker process between a file's steps (0: none), so a step
    # after this process's own committed write skips deserialising the state (app/engine/workflow_cache.py).
    workflow_cache_size: int = 256
    # -- Database waits (PostgreSQL): a request answers 503 rather than queue for ever --
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # How long a request waits for a free connection before it is answered 503 (with Retry-After).
    db_pool_timeout_seconds: float = 5.0
    # Longest statement, and longest wait for a row lock, before PostgreSQL cancels it.
    db_statement_timeout_seconds: float = 30.0
    db_lock_timeout_seconds: float = 5.0
    # A pooled connection idle longer than this is pinged before reuse (0: before every transaction).
    db_ping_after_idle_seconds: float = 5.0

    @property
    def is_embedded_demo(self) -> bool:
        """The embedded demo set-up of `make run`: an SQLite database under ``var_dir``, no
        ``PTSP_ENV`` (or ``demo``), and a web server bound to the loopback interface only.
        Only there may the default secret key be used."""
        if self.env.strip().lower() not in ("", "demo") or self.bind_host not in LOOPBACK_HOSTS:
            return False
        if not self.database_url.startswith("sqlite:///"):
            return False
        database = Path(self.database_url.removeprefix("sqlite:///")).resolve()
        return database.is_relative_to(Path(self.var_dir).resolve())

    def problems(self) -> list[str]:
        """Everything wrong with these settings (types, ranges, formats, the default secret)."""
        found = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                found.append(f"PTSP_{f.name.upper()} must not be negative (is {value})")
        for name in ("resubmission_days", "timer_sweep_seconds", "heartbeat_seconds", "heartbeat_max_age_seconds",
                     "max_form_bytes", "max_upload_bytes", "max_bpmn_bytes", "calendar_refresh_seconds",
                     "attachment_sweep_seconds",
                     "sla_default_working_days", "sla_sweep_seconds", "sla_sweep_batch", "notify_max_attempts",
                     "notify_retry_seconds", "notify_lease_seconds", "notify_requeue_seconds", "smtp_timeout_seconds",
                     "db_pool_size", "db_pool_timeout_seconds", "db_statement_timeout_seconds",
                     "db_lock_timeout_seconds"):
            if getattr(self, name) <= 0:
                found.append(f"PTSP_{name.upper()} must be greater than 0 (is {getattr(self, name)})")
        if not 1 <= self.smtp_port <= 65535:
            found.append(f"PTSP_SMTP_PORT must be a port number from 1 to 65535 (is {self.smtp_port})")
        if self.proxy_hops > 5:
            found.append(f"PTSP_PROXY_HOPS above 5 trusts forged addresses (is {self.proxy_hops})")
        if not self.sla_warning_days >= self.sla_critical_days:
            found.append("PTSP_SLA_WARNING_DAYS must be at least PTSP_SLA_CRITICAL_DAYS")
        if self.notify_lease_seconds <= self.smtp_timeout_seconds:
            found.append("PTSP_NOTIFY_LEASE_SECONDS must exceed PTSP_SMTP_TIMEOUT_SECONDS")
        if self.db_lock_timeout_seconds > self.db_statement_timeout_seconds:
            found.append("PTSP_DB_LOCK_TIMEOUT_SECONDS must not exceed PTSP_DB_STATEMENT_TIMEOUT_SECONDS")
        found += self._ratelimit_problems()
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            found.append(f"PTSP_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (is {self.log_level!r})")
        hours = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", self.office_hours)
        if hours is None or hours.group(1, 2) >= hours.group(3, 4):
            found.append(f"PTSP_OFFICE_HOURS must be HH:MM-HH:MM with the opening first (is {self.office_hours!r})")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"PTSP_TIMEZONE {self.timezone!r} is not a known time zone")
        if self.secret_key == DEFAULT_SECRET_KEY and not self.is_embedded_demo:
            found.append("PTSP_SECRET_KEY is the built-in demo key; outside the embedded demo (SQLite under var/, "
                         "no PTSP_ENV, listening on 127.0.0.1) set a long random PTSP_SECRET_KEY")
        elif len(self.secret_key) < 16 and self.secret_key != DEFAULT_SECRET_KEY:
            found.append("PTSP_SECRET_KEY must be at least 16 characters")
        return found

    def _ratelimit_problems(self) -> list[str]:
        scheme = self.ratelimit_storage_url.partition("://")[0]
        if scheme not in RATELIMIT_SCHEMES or "://" not in self.ratelimit_storage_url:
            return [f"PTSP_RATELIMIT_STORAGE_URL must be memory:// or a redis:// URL (is {self.ratelimit_storage_url!r})"]
        if scheme == "memory" and self.env.strip().lower() not in ("", "demo"):
            return ["PTSP_RATELIMIT_STORAGE_URL=memory:// counts in each process apart; with PTSP_ENV="
                    f"{self.env} set a redis:// URL so every web process shares the sign-in and tracking limits"]
        return []

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
        """Build settings from ``PTSP_*`` environment variables, then ``overrides``.

        Every setting is checked (:meth:`problems`): the service refuses to start with
        :class:`SettingsError` rather than fail later on a bad value."""
        values: dict[str, object] = {}
        wrong: list[str] = []
        defaults = cls()
        for f in fields(cls):
            raw = os.environ.get(f"PTSP_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(defaults, f.name)
            try:
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
            except ValueError:
                kind = {bool: "yes/no value", int: "whole number", float: "number"}[type(default)]
                wrong.append(f"PTSP_{f.name.upper()}={raw!r} is not a {kind}")
        # Conventional names win over nothing but lose to PTSP_* ones.
        if "database_url" not in values and os.environ.get("DATABASE_URL"):
            values["database_url"] = os.environ["DATABASE_URL"]
        values.update(overrides)
        if wrong:
            raise SettingsError("invalid settings:\n  " + "\n  ".join(wrong))
        settings = cls(**values)  # type: ignore[arg-type]
        problems = settings.problems()
        if problems:
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
        return settings
