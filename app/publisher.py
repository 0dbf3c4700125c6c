"""Publishing background jobs, only after the transaction that asked for them commits.

``app/`` never imports ``workers/``: it names jobs by their Celery task name.
A publisher that cannot reach the broker logs and carries on; the periodic
sweeps catch whatever was not delivered.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    args: tuple[Any, ...] = ()
    eta: datetime | None = None


class Publisher(Protocol):
    def publish(self, job: Job) -> None: ...


@dataclass
class RecordingPublisher:
    """Keeps jobs in a list; used by tests and by the CLI when no broker is wanted."""

    jobs: list[Job] = field(default_factory=list)

    def publish(self, job: Job) -> None:
        self.jobs.append(job)


class CeleryPublisher:
    """Sends jobs by task name to the configured broker."""

    # After a failure, jobs are not even tried for this long: a request (or a sweep
    # publishing many jobs) must not wait on a broker that is down; sweeps catch up.
    COOL_DOWN_SECONDS = 5.0

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self._client: Any = None
        self._down_until = 0.0

    def _celery(self) -> Any:
        if self._client is None:
            from celery import Celery

            self._client = Celery("ptsp-publisher", broker=self.broker_url, set_as_current=False)
            self._client.conf.broker_connection_retry_on_startup = False
            if not self.broker_url.startswith("sqla+"):  # that transport hands these to create_engine
                # One quick try instead of kombu's retries (about 6 s per job with Redis down).
                self._client.conf.broker_transport_options = {
                    "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
                    "socket_connect_timeout": 2, "socket_timeout": 5,
                }
        return self._client

    def publish(self, job: Job) -> None:
        if time.monotonic() < self._down_until:
            log.warning("broker unavailable; %s%r not published, the periodic sweep will catch up", job.name, job.args)
            return
        try:
            self._celery().send_task(job.name, args=list(job.args), eta=job.eta, retry=False)
        except Exception:  # the sweep will catch up; never fail the user's request
            self._down_until = time.monotonic() + self.COOL_DOWN_SECONDS
            log.warning("could not publish %s%r; the periodic sweep will catch up", job.name, job.args, exc_info=True)


def enqueue_after_commit(session: Session, name: str, *args: Any, eta: datetime | None = None) -> None:
    """Ask for ``name(*args)`` to run once this session's transaction commits."""
    session.info.setdefault("pending_jobs", []).append(Job(name, args, eta))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    jobs: list[Job] = session.info.pop("pending_jobs", [])
    publisher: Publisher | None = session.info.get("publisher")
    if publisher is None:
        return
    for job in jobs:
        publisher.publish(job)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("pending_jobs", None)
