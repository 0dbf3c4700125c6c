"""The JSON API: the officers' operations for other systems, token-authenticated.

Every response is JSON; every failure has the body described in
``app/api/errors.py``; ``/api/openapi.json`` describes all of it.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.api.errors import ApiError, error_body, from_domain
from app.api.openapi import openapi_document
from app.auth.lanes import LANES
from app.auth.models import User
from app.auth.services import UserError
from app.auth.tokens import user_for_token
from app.container import container
from app.db import request_session
from app.engine.definitions import list_definitions
from app.engine.models import HumanTask
from app.errors import DomainError
from app.files.intake import IntakeInvalid, intake_for, read_submission, register_application
from app.files.services import file_summary
from app.forms.check import FormBroken
from app.web.views import with_error_headers
from app.worklist.completion import claim_task, complete_task, release_task
from app.worklist.queries import open_tasks
from app.worklist.rules import get_task_for

bp = Blueprint("api", __name__, url_prefix="/api")
F = TypeVar("F", bound=Callable[..., Any])


def token_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, plain = header.partition(" ")
        user = user_for_token(request_session(), plain.strip(), container().clock) if scheme == "Bearer" else None
        if user is None:
            raise ApiError(401, "unauthorized", "a valid bearer token is required")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def api_user() -> User:
    user: User = g.api_user
    return user


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> ResponseReturnValue:
    return error_body(exc.status, exc.code, exc.message, exc.details)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> ResponseReturnValue:
    request_session().rollback()
    return _api_error(from_domain(exc))


@bp.errorhandler(FormBroken)
def _form_broken(exc: FormBroken) -> ResponseReturnValue:
    # A form file that fails the form check: the step cannot be shown or completed until it is fixed.
    request_session().rollback()
    return error_body(503, "form_unusable", str(exc))


@bp.errorhandler(UserError)
def _user_error(exc: UserError) -> ResponseReturnValue:
    request_session().rollback()
    return error_body(400, "bad_request", str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = (exc.name or "error").lower().replace(" ", "_")
    return with_error_headers(error_body(exc.code or 500, code, exc.description or exc.name or "error"), exc)


def _task_json(task: HumanTask, file_number: str | None = None) -> dict[str, Any]:
    return {
        "id": task.id, "title": task.title, "step": task.task_name, "lane": task.lane, "form": task.form,
        "status": task.status, "created_at": task.created_at.isoformat(),
        "claimed_by": task.claimed_by, "instance_id": task.instance_id, "file_number": file_number,
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/v1/me")
@token_required
def me() -> ResponseReturnValue:
    user = api_user()
    return jsonify({"username": user.username, "full_name": user.full_name, "role": user.role,
                    "lanes": sorted(user.lane_names)})


@bp.get("/v1/process-definitions")
@token_required
def definitions() -> ResponseReturnValue:
    return jsonify({"items": [
        {"process_id": d.process_id, "name": d.name, "version": d.version, "versions": n,
         "deployed_at": d.deployed_at.isoformat(), "deployed_by": d.deployed_by}
        for d, n in list_definitions(request_session())]})


@bp.get("/v1/tasks")
@token_required
def tasks() -> ResponseReturnValue:
    lane = request.args.get("lane")
    lanes = api_user().lane_names
    if lane is not None:
        if lane not in LANES:
            raise ApiError(400, "bad_request", f"unknown lane {lane!r}")
        if lane not in lanes:
            raise ApiError(403, "forbidden", f"you are not a member of lane {lane!r}")
        lanes = {lane}
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 200:  # the OpenAPI document's minimum and maximum
        raise ApiError(400, "bad_request", "limit must be a whole number from 1 to 200")
    rows = open_tasks(request_session(), lanes, limit)
    return jsonify({"items": [_task_json(t) for t in rows]})


@bp.get("/v1/tasks/<int:task_id>")
@token_required
def task(task_id: int) -> ResponseReturnValue:
    row = get_task_for(request_session(), task_id, api_user())
    body = _task_json(row)
    body["form_schema"] = container().forms.schema(row.form) if row.form else None
    return jsonify(body)


@bp.post("/v1/tasks/<int:task_id>/complete")
@token_required
def complete(task_id: int) -> ResponseReturnValue:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ApiError(400, "bad_request", 'send a JSON object {"data": {...}} with the form values')
    c = container()
    row = complete_task(request_session(), c.runtime, c.forms, task_id, payload["data"], api_user())
    return jsonify(_task_json(row))


@bp.post("/v1/tasks/<int:task_id>/claim")
@token_required
def claim(task_id: int) -> ResponseReturnValue:
    row = claim_task(request_session(), task_id, api_user(), container().clock.now())
    return jsonify(_task_json(row))


@bp.post("/v1/tasks/<int:task_id>/release")
@token_required
def release(task_id: int) -> ResponseReturnValue:
    row = release_task(request_session(), task_id, api_user())
    return jsonify(_task_json(row))


@bp.post("/v1/files")
@token_required
def register_file() -> ResponseReturnValue:
    """The front desk's intake over HTTP: the same multipart fields and documents as the browser's
    form, the same checks, one transaction; the tracking PIN is in the answer (shown once)."""
    from app.files.views import INTAKE_LANE

    user = api_user()
    if INTAKE_LANE not in user.lane_names:
        raise ApiError(403, "forbidden", f"registering files needs lane {INTAKE_LANE!r}")
    if request.mimetype != "multipart/form-data":
        raise ApiError(400, "bad_request", "send multipart/form-data: permit_type, the form's fields, the documents")
    db, c = request_session(), container()
    target = intake_for(db, request.form.get("permit_type", ""))
    submission = read_submission(c.forms.schema(target.form), target, request.form, request.files,
                                 c.settings.max_upload_bytes)
    try:
        registration = register_application(db, c.runtime, c.forms, c.settings, c.calendar, submission, user,
                                            c.complete_step)
    except IntakeInvalid as invalid:
        db.rollback()
        raise ApiError(422, "validation_failed", "the registration cannot be accepted",
                       [{"field": f, "message": m} for f, m in invalid.errors.items()]) from None
    file = registration.file
    return jsonify({
        "file_number": file.file_number, "process_id": file.process_id, "pin": registration.pin,
        "promised_date": file.promised_date.isoformat() if file.promised_date else None,
        "attachments": [{"document_type": a.document_type, "size": a.size, "sha256": a.sha256}
                        for a in registration.attachments],
    }), 201


@bp.get("/v1/files/<file_number>")
@token_required
def file(file_number: str) -> ResponseReturnValue:
    user = api_user()
    if not (user.lane_names or user.role in ("manager", "admin")):
        raise ApiError(403, "forbidden", "only officers, managers and administrators may read files")
    summary = file_summary(request_session(), file_number)
    return jsonify({
        "file_number": summary.file_number, "process_id": summary.process_id, "status": summary.status,
        "applicant_name": summary.applicant_name,
        "promised_date": summary.promised_date.isoformat() if summary.promised_date else None,
        "open_tasks": [_task_json(t, summary.file_number) for t in summary.open_tasks],
        "history": [{"at": e.at.isoformat(), "kind": e.kind, "step": e.task_name, "actor": e.actor}
                    for e in summary.history],
    })
