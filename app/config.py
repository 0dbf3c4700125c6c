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
    max_bpmn_bytes: int = 2 * 1024 * 1024

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
