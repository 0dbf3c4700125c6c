from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.container import container
from app.ops.services import check_definitions, check_health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    c = container()
    ok, report = check_health(c.db, c.settings.broker_url, c.clock, c.settings.heartbeat_max_age_seconds)
    report["definitions"] = check_definitions(c.forms, c.settings.processes_dir, c.settings.max_bpmn_bytes)
    if not report["definitions"]["ok"]:
        ok, report["status"] = False, "degraded"
    return jsonify(report), 200 if ok else 503
