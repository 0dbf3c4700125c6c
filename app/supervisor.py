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
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app.cli import DEMO_PASSWORD, DEMO_USERS
from app.config import Settings, SettingsError


def host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def service_commands(settings: Settings, port: str, bin_dir: Path) -> dict[str, list[str]]:
    """The command line of each part; the web server listens on ``settings.bind_host`` (127.0.0.1 by default)."""
    host = host_for_url(settings.bind_host)
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
    probe = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else host_for_url(settings.bind_host)  # noqa: S104
    health = wait_until_healthy(f"http://{probe}:{port}/healthz",
                                lambda: all(p.poll() is None for p in children.values()))
    if health is None:
        print("the service did not start; see the messages above", file=sys.stderr)
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        return 1
    note = "" if health == 200 else f"  (/healthz answers {health}: see it for what is not ready yet)"
    print(f"\nPTSP berjalan di / running at http://{host_for_url(settings.bind_host)}:{port}/  (health: /healthz){note}")
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


def wait_until_healthy(url: str, alive: Callable[[], bool], *, settle_seconds: float = 60.0,
                       give_up_seconds: float = 600.0, every: float = 0.5,
                       say: Callable[[str], None] = lambda text: print(text, flush=True)) -> int | None:
    """Poll ``url`` until it answers 200 and return 200; if it answers something else for
    ``settle_seconds`` return that status (the web is up, a part is not ready). ``None`` when a
    part died or nothing answered within ``give_up_seconds``. Says every 5 s that it waits."""
    started = time.monotonic()
    first_answer: float | None = None
    last_said = started
    status: int | None = None
    while alive():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own localhost)
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError):
            status = None
        now = time.monotonic()
        if status == 200:
            return 200
        if status is not None:
            first_answer = first_answer or now
            if now - first_answer >= settle_seconds:
                return status
        if now - started >= give_up_seconds:
            return None
        if now - last_said >= 5:
            say(f"menunggu layanan siap / waiting for the service ... {int(now - started)} s")
            last_said = now
        time.sleep(every)
    return None


if __name__ == "__main__":
    sys.exit(main())
