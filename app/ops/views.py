from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.container import container
from app.ops.services import check_health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    c = container()
    ok, report = check_health(c.db, c.settings.broker_url, c.clock, c.settings.heartbeat_max_age_seconds)
    return jsonify(report), 200 if ok else 503
