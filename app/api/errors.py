"""One error body for every API failure: {"error": {"code", "message", "details"}}."""
from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from app.auth.services import UserError
from app.engine.errors import (
    ConcurrentUpdate,
    InstanceNotRunning,
    NotFound,
    TaskAlreadyDone,
    TaskNotReady,
)
from app.errors import DomainError
from app.worklist.completion import FormInvalid
from app.worklist.rules import ClaimedByOther, DutiesSeparated, NotClaimed, NotYourLane, ReleaseRefused

# Domain error -> (HTTP status, code); the first match wins, then the error's own status and code.
ERROR_STATUS: list[tuple[type[Exception], int, str]] = [
    (FormInvalid, 422, "validation_failed"),
    (NotYourLane, 403, "forbidden"),
    (DutiesSeparated, 403, "duties_separated"),
    (ClaimedByOther, 409, "claimed_by_other"),
    (ReleaseRefused, 403, "forbidden"),
    (NotClaimed, 409, "not_claimed"),
    (NotFound, 404, "not_found"),
    (ConcurrentUpdate, 409, "conflict"),
    (TaskAlreadyDone, 409, "task_already_done"),
    (TaskNotReady, 409, "task_not_ready"),
    (InstanceNotRunning, 409, "instance_not_running"),
    (UserError, 400, "bad_request"),
]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details or []
        super().__init__(message)


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> ResponseReturnValue:
    return jsonify({"error": {"code": code, "message": message, "details": details or []}}), status


def from_domain(exc: Exception) -> ApiError:
    for kind, status, code in ERROR_STATUS:
        if isinstance(exc, kind):
            details = [e.as_dict() for e in exc.errors] if isinstance(exc, FormInvalid) else []
            return ApiError(status, code, str(exc), details)
    if isinstance(exc, DomainError):  # any other domain error: the status and code it carries
        return ApiError(exc.status, exc.code, str(exc))
    raise exc
