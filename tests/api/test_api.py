"""The JSON API: tokens, the same rules as the browser, one error body, and the
OpenAPI document checked by schemathesis."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import User
from app.auth.tokens import issue_token, revoke_token
from app.files.services import open_file
from tests import samples


def token_for(app: Flask, username: str) -> str:
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return issue_token(session, user, "test", c.clock)


def api(client: FlaskClient, token: str, method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def open_pbg(app: Flask) -> str:
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        number = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket").file_number
    assert number
    return number


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_without_or_with_a_bad_token_nothing_is_served(web_app: Flask) -> None:
    client = web_app.test_client()
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(api(client, "ptsp_not-a-token", "GET", "/api/v1/me"), 401, "unauthorized")
    token = token_for(web_app, "loket")
    assert api(client, token, "GET", "/api/v1/me").get_json()["lanes"] == ["front_office"]
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        from app.auth.models import ApiToken

        revoke_token(session, session.scalars(select(ApiToken)).one().id, web_app.extensions["ptsp"].clock)
    assert_error(api(client, token, "GET", "/api/v1/me"), 401, "unauthorized")


def test_an_inactive_users_token_is_refused(web_app: Flask) -> None:
    client = web_app.test_client()
    token = token_for(web_app, "loket")
    assert api(client, token, "GET", "/api/v1/me").status_code == 200
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        session.scalars(select(User).where(User.username == "loket")).one().active = False
    assert_error(api(client, token, "GET", "/api/v1/me"), 401, "unauthorized")


def test_api_answers_carry_the_security_headers_and_no_session_cookie(web_app: Flask) -> None:
    client = web_app.test_client()
    token = token_for(web_app, "loket")
    for response in (api(client, token, "GET", "/api/v1/me"), client.get("/api/v1/me")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self';")
        assert len(response.headers.getlist("Content-Security-Policy")) == 1
        assert "Set-Cookie" not in response.headers


def test_an_integration_completes_the_registration_and_the_verifier_sees_the_next_step(web_app: Flask) -> None:
    client = web_app.test_client()
    number = open_pbg(web_app)
    front = token_for(web_app, "loket")
    [task] = api(client, front, "GET", "/api/v1/tasks").get_json()["items"]
    detail = api(client, front, "GET", f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["form_schema"]["properties"]["applicant"]["title"] == "Identitas pemohon"

    bad = api(client, front, "POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": {"applicant": {}}})
    error = assert_error(bad, 422, "validation_failed")
    assert {"applicant/nik", "building_location"} <= {d["field"] for d in error["details"]}

    done = api(client, front, "POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": samples.REGISTRATION})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    assert_error(api(client, front, "POST", f"/api/v1/tasks/{task['id']}/complete",
                     json={"data": samples.REGISTRATION}), 409, "task_already_done")

    verifier = token_for(web_app, "verifikator")
    [next_task] = api(client, verifier, "GET", "/api/v1/tasks").get_json()["items"]
    assert next_task["title"] == "Pemeriksaan kelengkapan berkas"
    file = api(client, verifier, "GET", f"/api/v1/files/{number}").get_json()
    assert [t["title"] for t in file["open_tasks"]] == ["Pemeriksaan kelengkapan berkas"]


def test_another_lanes_task_is_forbidden_in_the_api_too(web_app: Flask) -> None:
    client = web_app.test_client()
    open_pbg(web_app)
    [task] = api(client, token_for(web_app, "loket"), "GET", "/api/v1/tasks").get_json()["items"]
    cashier = token_for(web_app, "kasir")
    assert_error(api(client, cashier, "GET", f"/api/v1/tasks/{task['id']}"), 403, "forbidden")
    assert_error(api(client, cashier, "POST", f"/api/v1/tasks/{task['id']}/complete",
                     json={"data": samples.REGISTRATION}), 403, "forbidden")
    assert_error(api(client, cashier, "GET", "/api/v1/tasks?lane=front_office"), 403, "forbidden")
    designer = token_for(web_app, "perancang")
    assert_error(api(client, designer, "GET", "/api/v1/files/PBG-2026-000001"), 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/api/v1/tasks/1/complete", "not json", 400, "bad_request"),
    ("POST", "/api/v1/tasks/1/complete", {"data": [1]}, 400, "bad_request"),
    ("GET", "/api/v1/tasks/999999", None, 404, "not_found"),
    ("GET", "/api/v1/tasks?limit=lots", None, 400, "bad_request"),
    ("GET", "/api/v1/files/NOPE-1", None, 404, "not_found"),
    ("GET", "/api/v1/no-such-thing", None, 404, "not_found"),
    ("DELETE", "/api/v1/me", None, 405, "method_not_allowed"),
])
def test_every_failure_has_the_same_error_body(web_app: Flask, method: str, path: str, body: Any, status: int,
                                               code: str) -> None:
    client = web_app.test_client()
    token = token_for(web_app, "loket")
    kwargs = {"json": body} if isinstance(body, dict) else ({"data": body} if body else {})
    assert_error(api(client, token, method, path, **kwargs), status, code)


def test_claims_through_the_api_hold_the_task_for_one_officer(web_app: Flask) -> None:
    client = web_app.test_client()
    open_pbg(web_app)
    front = token_for(web_app, "loket")
    [task] = api(client, front, "GET", "/api/v1/tasks").get_json()["items"]
    claimed = api(client, front, "POST", f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "loket"
    assert_error(api(client, token_for(web_app, "kasir"), "POST", f"/api/v1/tasks/{task['id']}/release"),
                 403, "forbidden")
    released = api(client, front, "POST", f"/api/v1/tasks/{task['id']}/release")
    assert released.status_code == 200 and released.get_json()["claimed_by"] is None
    assert_error(api(client, front, "POST", f"/api/v1/tasks/{task['id']}/release"), 409, "not_claimed")
