"""Start-up refuses unsafe or wrong settings; the demo listens on 127.0.0.1 only
(issue 10 item 8, issue 11 section 4)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import DEFAULT_SECRET_KEY, ROOT, Settings, SettingsError
from app.supervisor import service_commands


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("PTSP_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PTSP_VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_the_embedded_demo_starts_with_the_default_key_and_listens_on_loopback(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert settings.secret_key == DEFAULT_SECRET_KEY and settings.is_embedded_demo
    web = service_commands(settings, "5000", Path("/bin"))["web"]
    assert web[web.index("--bind") + 1] == "127.0.0.1:5000"


def test_the_address_is_configurable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PTSP_BIND_HOST", "0.0.0.0")
    clean_env.setenv("PTSP_SECRET_KEY", "a-long-random-secret-for-this-office")
    web = service_commands(Settings.from_env(), "8000", Path("/bin"))["web"]
    assert web[web.index("--bind") + 1] == "0.0.0.0:8000"


@pytest.mark.parametrize("env", [
    {"PTSP_DATABASE_URL": "postgresql+psycopg://ptsp@db/ptsp"},
    {"DATABASE_URL": "postgresql+psycopg://ptsp@db/ptsp"},
    {"PTSP_ENV": "production", "PTSP_RATELIMIT_STORAGE_URL": "redis://redis:6379/1"},
    {"PTSP_BIND_HOST": "0.0.0.0"},
    {"PTSP_DATABASE_URL": "sqlite:////srv/ptsp/office.sqlite"},
], ids=["postgresql", "database-url", "production", "listening-on-all", "sqlite-outside-var"])
def test_the_default_secret_is_refused_outside_the_demo(clean_env: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match="PTSP_SECRET_KEY"):
        Settings.from_env()
    clean_env.setenv("PTSP_SECRET_KEY", "a-long-random-secret-for-this-office")
    assert Settings.from_env().secret_key == "a-long-random-secret-for-this-office"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("PTSP_SMTP_PORT", "dua-lima", "not a whole number"),
    ("PTSP_SMTP_PORT", "70000", "1 to 65535"),
    ("PTSP_NOTIFY_EMAIL", "mungkin", "not a yes/no value"),
    ("PTSP_SLA_SWEEP_SECONDS", "0", "greater than 0"),
    ("PTSP_RESUBMISSION_DAYS", "-3", "must not be negative"),
    ("PTSP_OFFICE_HOURS", "16:00-08:00", "opening first"),
    ("PTSP_OFFICE_HOURS", "jam kantor", "HH:MM-HH:MM"),
    ("PTSP_TIMEZONE", "Asia/Atlantis", "not a known time zone"),
    ("PTSP_SLA_CRITICAL_DAYS", "5", "at least PTSP_SLA_CRITICAL_DAYS"),
    ("PTSP_SECRET_KEY", "pendek", "at least 16 characters"),
    ("PTSP_RATELIMIT_STORAGE_URL", "memcached://cache:11211", "memory:// or a redis:// URL"),
    ("PTSP_LOG_LEVEL", "ramai", "DEBUG, INFO, WARNING"),
    ("PTSP_RATELIMIT_STORAGE_URL", "localhost:6379", "memory:// or a redis:// URL"),
])
def test_wrong_settings_stop_the_start_with_a_clear_message(clean_env: pytest.MonkeyPatch, name: str, value: str,
                                                            says: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=says):
        Settings.from_env()


def test_production_refuses_rate_limits_counted_in_one_process(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PTSP_ENV", "production")
    clean_env.setenv("PTSP_SECRET_KEY", "a-long-random-secret-for-this-office")
    with pytest.raises(SettingsError, match="PTSP_RATELIMIT_STORAGE_URL=memory://"):
        Settings.from_env()
    clean_env.setenv("PTSP_RATELIMIT_STORAGE_URL", "redis://redis:6379/1")
    assert Settings.from_env().ratelimit_storage_url == "redis://redis:6379/1"
    assert Settings().ratelimit_storage_url == "memory://"  # the embedded demo needs no setting


def test_the_web_application_does_not_start_on_postgresql_with_the_demo_key(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PTSP_VAR_DIR": str(tmp_path / "var"),
           "PTSP_DATABASE_URL": "postgresql+psycopg://ptsp@127.0.0.1:1/none"}
    done = subprocess.run([sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "PTSP_SECRET_KEY is the built-in demo key" in done.stderr
    supervisor = subprocess.run([sys.executable, "-m", "app.supervisor"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
    assert supervisor.returncode == 2 and "not started" in supervisor.stderr


def test_holidays_is_pinned_exactly() -> None:
    # A new release of `holidays` moves legal deadlines: it changes only on purpose.
    text = (ROOT / "pyproject.toml").read_text()
    assert '"holidays==' in text


def test_every_dependency_is_pinned_in_the_lock_file_within_its_range() -> None:
    # A dependency added to pyproject.toml without `make lock` would install unpinned on a fresh machine.
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version
    problems = [f"{r.name}: {locked.get(canonicalize_name(r.name), 'missing')}" for r in wanted
                if not r.specifier.contains(locked.get(canonicalize_name(r.name), "0"), prereleases=True)]
    assert problems == [], "run `make lock`: " + ", ".join(problems)
