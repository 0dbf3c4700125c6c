"""The permission matrix: every role against every route of the web application.

Each route declares who may use it. Allowed users are served (any status but
401/403 and 5xx and not sent to sign in: a made-up id may well be 404); everyone else
is refused: 403 when signed in, sent to sign in when anonymous. A new route
without a line here fails the first test. The JSON API has its own matrix in
tests/api/test_api.py.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.engine.models import HumanTask
from app.files.services import open_file
from tests.web import csrf_token, signed_in

USERS = ["anonymous", "loket", "verifikator", "teknis", "kasir", "kepala", "manajer", "perancang", "admin"]
OFFICERS = {"loket", "verifikator", "teknis", "kasir", "kepala"}
EVERYONE = set(USERS)
SIGNED_IN = EVERYONE - {"anonymous"}
FILE_READERS = OFFICERS | {"manajer", "admin"}

# endpoint -> (who may, methods to try)
POLICY: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "web.home": (SIGNED_IN, ("GET",)),  # anonymous visitors are sent to sign in
    "ops.healthz": (EVERYONE, ("GET",)),
    "auth.login": (EVERYONE, ("GET",)),
    "auth.logout": (SIGNED_IN, ("POST",)),
    "auth.language": (EVERYONE, ("POST",)),
    "auth.users": ({"admin"}, ("GET",)),
    "auth.edit_user": ({"admin"}, ("GET", "POST")),
    "catalogue.index": (EVERYONE, ("GET",)),
    "catalogue.show": (EVERYONE, ("GET",)),
    "catalogue.diagram": (EVERYONE, ("GET",)),
    "public.track": (EVERYONE, ("GET", "POST")),
    "permits.verify": (EVERYONE, ("GET",)),
    "permits.verify_pdf": (EVERYONE, ("GET",)),
    "complaints.new": (EVERYONE, ("GET", "POST")),
    "complaints.status": (EVERYONE, ("GET", "POST")),
    "complaints.index": ({"manajer", "admin"}, ("GET",)),
    "complaints.answer": ({"manajer", "admin"}, ("POST",)),
    "files.intake": ({"loket"}, ("GET", "POST")),
    "files.show": (FILE_READERS, ("GET",)),
    "files.receipt_page": (FILE_READERS, ("GET",)),
    "files.diagram": (FILE_READERS, ("GET",)),
    "files.download": (FILE_READERS, ("GET",)),
    "files.reissue_pin": ({"loket"}, ("POST",)),
    "permits.skrd": (FILE_READERS, ("GET",)),
    "permits.of_file": (FILE_READERS, ("GET",)),
    "permits.show": (FILE_READERS, ("GET",)),
    "permits.pdf": (FILE_READERS, ("GET",)),
    "permits.preview": (FILE_READERS, ("GET",)),
    "permits.handover_sheet": (FILE_READERS, ("GET",)),
    "permits.refusal_letter": (FILE_READERS, ("GET",)),
    "permits.revoke": ({"kepala", "admin"}, ("POST",)),
    "worklist.index": (FILE_READERS, ("GET",)),  # managers and administrators read every lane
    "file_list.index": (FILE_READERS, ("GET",)),
    # The sample task is the registration step, in the front office's lane.
    "worklist.task": ({"loket"}, ("GET", "POST")),
    "worklist.claim": ({"loket"}, ("POST",)),
    "worklist.release": ({"loket", "kepala", "manajer"}, ("POST",)),
    "inbox.index": (SIGNED_IN, ("GET",)),
    "inbox.acknowledge_notice": (SIGNED_IN, ("POST",)),
    "inbox.reassign": ({"manajer", "admin"}, ("POST",)),
    "inbox.calendar": ({"admin"}, ("GET", "POST")),
    "inbox.deliveries": ({"admin"}, ("GET",)),
    "inbox.retry": ({"admin"}, ("POST",)),
    "inbox.responsibilities": ({"admin"}, ("GET", "POST")),
    "skm.survey": (EVERYONE, ("GET", "POST")),
    "skm.public_index": (EVERYONE, ("GET",)),
    "skm.handover_sheet": (FILE_READERS, ("GET",)),  # the old address: 301 to permits.handover_sheet
    "desk.index": ({"kepala", "manajer", "admin"}, ("GET",)),
    "desk.heat": ({"kepala", "manajer", "admin", "perancang"}, ("GET",)),  # designers: over their diagrams
    "desk.order_report": ({"kepala", "manajer"}, ("POST",)),  # administrators only read the desk
    "desk.report_page": ({"kepala", "manajer", "admin"}, ("GET",)),
    "desk.report_file": ({"kepala", "manajer", "admin"}, ("GET",)),
    "files.show_nik": ({"loket"}, ("POST",)),  # an open step that needs the NIK: registration (tests/privacy)
    "privacy.access_log_page": ({"admin"}, ("GET",)),
    "evidence.index": ({"admin"}, ("GET",)),
    "evidence.anchor_file": ({"admin"}, ("GET",)),
}
DESIGNER_ONLY = {"perancang"}
NOT_CHECKED = {"static", "web.vendor", "web.vendor_font", "web.favicon"}  # the front-end packages and our CSS/JS, public


def policy(endpoint: str) -> tuple[set[str], tuple[str, ...]] | None:
    if endpoint in POLICY:
        return POLICY[endpoint]
    if endpoint.startswith("designer."):
        return DESIGNER_ONLY, ("GET", "POST")
    return None


def test_every_route_declares_who_may_use_it(web_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in web_app.url_map.iter_rules()}
    undeclared = sorted(e for e in endpoints
                        if e not in NOT_CHECKED and not e.startswith("api.") and policy(e) is None)
    assert undeclared == [], f"routes without a line in POLICY: {undeclared}"


def sample_values(app: Flask) -> dict[str, Any]:
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket")
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)).one()
        return {"file_number": file.file_number, "task_id": task.id, "attachment_id": 999999,
                "permit_id": 999999, "notice_id": 999999, "complaint_id": 999999, "delivery_id": 999999,
                "user_id": 1, "definition_id": 1, "draft_id": 999999, "process_id": "building_permit",
                "name": "pbg_payment.json", "token": "bukan-token", "path": "x", "filename": "app.css",
                "report_id": 999999, "kind": "pdf"}


def urls_for(app: Flask, endpoint: str, values: dict[str, Any]) -> list[str]:
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules(endpoint):
            urls.append(url_for(endpoint, **{arg: values[arg] for arg in rule.arguments}))
    return urls


def refused(response: Any, user: str) -> bool:
    if user == "anonymous":
        return response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")
    return response.status_code == 403


def answered_as_declared(response: Any, user: str, allowed: bool, endpoint: str = "") -> bool:
    """Allowed users are served without a server error; everyone else is refused.
    (/healthz answers 503 by design here: no worker has sent a heartbeat.)"""
    if response.status_code >= 500 and not (endpoint == "ops.healthz" and response.status_code == 503):
        return False
    return allowed != refused(response, user)


def test_a_server_error_on_an_allowed_route_fails_the_matrix() -> None:
    from werkzeug.wrappers import Response

    assert not answered_as_declared(Response(status=500), "loket", allowed=True)
    assert not answered_as_declared(Response(status=503), "anonymous", allowed=False)
    assert answered_as_declared(Response(status=404), "loket", allowed=True)
    assert answered_as_declared(Response(status=403), "loket", allowed=False)


@pytest.mark.parametrize("user", USERS)
def test_each_role_reaches_exactly_its_routes(web_app: Flask, user: str) -> None:
    values = sample_values(web_app)
    client = web_app.test_client() if user == "anonymous" else signed_in(web_app, user)
    token = csrf_token(client, "/login") if user == "anonymous" else _token_of(client)
    wrong: list[str] = []
    for rule in sorted(web_app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = policy(rule.endpoint)
        if rule.endpoint in NOT_CHECKED or rule.endpoint.startswith("api.") or declared is None:
            continue
        allowed_users, methods = declared
        for method in methods:
            if method not in rule.methods:  # type: ignore[operator]
                continue
            for url in urls_for(web_app, rule.endpoint, values):
                if rule.endpoint in ("auth.logout", "auth.language") and method == "POST":
                    continue  # they end or change the session itself; tested in tests/auth
                response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                if not answered_as_declared(response, user, user in allowed_users, rule.endpoint):
                    wrong.append(f"{method} {url}: {response.status_code} (allowed: {user in allowed_users})")
    assert wrong == [], f"{user}: " + "; ".join(wrong)


def _token_of(client: Any) -> str:
    page = client.get("/inbox").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)
