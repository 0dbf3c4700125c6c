"""Runs the whole service in one terminal: web server, one Celery worker, Celery beat.

Used by ``make run`` on embedded defaults; production runs each part under its
own supervisor (see README). Stops every part when one dies or on Ctrl-C.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.cli import DEMO_PASSWORD, DEMO_USERS
from app.config import Settings, SettingsError


def service_commands(settings: Settings, port: str, bin_dir: Path) -> dict[str, list[str]]:
    """The command line of each part; the web server listens on ``settings.bind_host`` (127.0.0.1 by default)."""
    host = f"[{settings.bind_host}]" if ":" in settings.bind_host else settings.bind_host
    return {
        "web": [str(bin_dir / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
                "--access-logfile", "-", "app.wsgi:application"],
        "worker": [str(bin_dir / "celery"), "-A", "workers.celery_app", "worker", "--loglevel=INFO",
                   "--concurrency=2", "--hostname=worker1@%h"],
        "beat": [str(bin_dir / "celery"), "-A", "workers.celery_app", "beat", "--loglevel=INFO",
                 "--schedule", str(settings.var_dir / "celerybeat-schedule")],
    }


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"PTSP tidak dijalankan / not started: {exc}", file=sys.stderr)
        return 2
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    port = os.environ.get("PORT", "5000")
    commands = service_commands(settings, port, Path(sys.executable).parent)
    children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
    print(f"\nPTSP berjalan di / running at http://{settings.bind_host}:{port}/  (health: /healthz)")
    print(f"database: {settings.database_url}\nbroker:   {settings.broker_url}")
    print("demo logins (username / password / role / lanes):")
    for username, _, role, lanes in DEMO_USERS:
        print(f"  {username:<12} {DEMO_PASSWORD}  {role:<9} {', '.join(lanes)}")
    sys.stdout.flush()

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the others", file=sys.stderr)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in children.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
