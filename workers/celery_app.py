"""The Celery application, bound to the Flask app the documented way.

Start a worker with ``celery -A workers.celery_app worker`` and exactly one
scheduler with ``celery -A workers.celery_app beat``.
"""
from __future__ import annotations

from typing import Any

from celery import Celery, Task, signals
from celery.schedules import crontab
from flask import Flask

from app import create_worker_app
from app.config import Settings
from app.logging_setup import bound, configure_logging


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's own settings, kept apart from Flask's config."""
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend or None,
        "task_ignore_result": True,
        # Tasks are idempotent: acknowledge after they ran, so a killed worker's
        # task is delivered again instead of lost.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "timezone": "UTC",
        "beat_schedule_filename": str(settings.var_dir / "celerybeat-schedule"),
        "beat_schedule": {
            "sweep-due-timers": {"task": "workers.tasks.sweep_timers", "schedule": settings.timer_sweep_seconds},
            "worker-heartbeat": {"task": "workers.tasks.heartbeat", "schedule": settings.heartbeat_seconds},
            "sla-sweep": {"task": "workers.tasks.sla_sweep", "schedule": settings.sla_sweep_seconds},
            "attachments-sweep": {"task": "workers.tasks.sweep_attachments",
                                  "schedule": settings.attachment_sweep_seconds},
            "desk-rollup": {"task": "workers.tasks.desk_rollup", "schedule": settings.desk_rollup_seconds},
            # 01:30 Jakarta: the chains are checked and the day's anchor published (app/evidence).
            "integrity-check": {"task": "workers.tasks.integrity_check",
                                "schedule": crontab(hour=18, minute=30)},
        },
        "imports": ["workers.tasks"],
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            # A task's log lines carry its id where a web request's carry the request id.
            with app.app_context(), bound(request_id=self.request.id):
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _logging_as_the_web_does(**_: object) -> None:
    """The worker logs JSON lines like the web processes (rather than Celery's own format)."""
    configure_logging(Settings.from_env().log_level)


signals.setup_logging.connect(_logging_as_the_web_does)  # a call, not a decorator: Celery is untyped


def make_celery(flask_app: Flask | None = None) -> Celery:
    """The Celery app bound to ``flask_app``; by default the worker's own (no pages, no commands)."""
    flask_app = flask_app or create_worker_app()
    settings = flask_app.extensions["ptsp"].settings
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    flask_app.config["CELERY"] = celery_config(settings)
    return celery_init_app(flask_app)


celery = make_celery()
