"""Logging, configured once per process: one JSON line per event on standard error.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, then what is known
of its context: ``request_id`` (the ``X-Request-ID`` of the web request, echoed back on the
response and made up when absent; the task id in a Celery worker), ``user`` (who is signed in),
``file_number`` (a log call's ``extra={"file_number": ...}``, the file a URL names, or the one bound
with :func:`bound`) and ``exception`` (the traceback of ``log.exception``). Log calls stay plain
``logging`` calls: ``log.warning("file %s ...", number)``.

The web application calls :func:`configure_logging` in its factory and installs the request-id
hooks with :func:`init_app`; a Celery worker calls it when it starts (workers/celery_app.py).
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from flask import Flask, Response

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from outside is kept only when it is short and plain: it is echoed into a header and the logs.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
CONTEXT_FIELDS = ("request_id", "user", "file_number")
# Libraries that narrate their own inner steps at INFO: SpiffWorkflow logs every task state change
# ("State changed to READY", a dozen lines per completed step). They speak from WARNING up unless the
# level asked for is DEBUG, so a request at INFO logs what the application says, not the engine's steps.
CHATTY_LOGGERS = ("spiff",)

_bound: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("ptsp_log_context", default={})  # noqa: B039 (never mutated: replaced)


class JsonFormatter(logging.Formatter):
    """One JSON object per event, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event.update(context_of(record))
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        return json.dumps(event, ensure_ascii=False, default=str)


def context_of(record: logging.LogRecord) -> dict[str, str]:
    """The context fields known for ``record``: its own ``extra``, then the bound ones, then the request's."""
    found = {name: str(value) for name in CONTEXT_FIELDS if (value := getattr(record, name, None)) is not None}
    for name, value in {**_bound.get(), **_request_context()}.items():
        found.setdefault(name, value)
    return found


def _request_context() -> dict[str, str]:
    from flask import g, has_request_context, request

    if not has_request_context():
        return {}
    found = {}
    if request_id := g.get("request_id"):
        found["request_id"] = request_id
    # The user as loaded for this request; never loaded here (a log call must not query the database).
    if username := getattr(g.get("_login_user"), "username", None):
        found["user"] = username
    if (request.view_args or {}).get("file_number"):
        found["file_number"] = str(request.view_args["file_number"])  # type: ignore[index]
    return found


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Log lines inside the block carry ``fields`` (e.g. ``request_id`` of a Celery task, ``file_number``)."""
    token = _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _bound.reset(token)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is at each event (a test runner swaps it between tests)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on standard error for every logger, at ``level`` (the :data:`CHATTY_LOGGERS` at
    WARNING unless ``level`` is DEBUG); once per process (later calls change only the levels)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for name in CHATTY_LOGGERS:  # NOTSET: they follow the root's DEBUG
        logging.getLogger(name).setLevel(logging.NOTSET if root.level <= logging.DEBUG else max(root.level, logging.WARNING))
    if any(isinstance(handler, _StandardError) for handler in root.handlers):
        return
    handler = _StandardError()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)


def init_app(app: Flask) -> None:
    """Give every request an id (the client's ``X-Request-ID`` when it is plain, else a new one),
    and send it back on the response."""
    from flask import g, request

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _PLAIN_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if request_id := g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = request_id
        return response
