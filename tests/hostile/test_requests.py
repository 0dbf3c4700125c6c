"""Hostile requests from outside: each one is refused with a clear answer, never a 5xx,
and never sends the browser to another site (issue 10, items 3, 4, 5, 15)."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.api.test_api import api, assert_error, open_pbg, token_for
from tests.web import DEMO_PASSWORD, csrf_token, signed_in

# Each `next` either leaves the site after a browser's or werkzeug's normalisation, or breaks the header.
HOSTILE_NEXT = [
    "//evil.example/phish",
    "/%09/evil.example/phish",
    "/\t/evil.example/phish",
    "/%0D%0A/evil.example",
    "/\r\n/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " //evil.example",
    "/\x00/evil.example",
]


def _is_same_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and "evil" not in location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_sends_the_browser_elsewhere(web_app: Flask, target: str) -> None:
    client = web_app.test_client()
    token = csrf_token(client)
    query = target if "%" in target else target.replace("\\", "%5C")
    response = client.post(f"/login?next={query}", data={"username": "loket", "password": DEMO_PASSWORD,
                                                          "csrf_token": token})
    assert response.status_code == 302
    assert _is_same_site(response.headers["Location"]), response.headers["Location"]


def test_sign_in_still_returns_to_a_page_of_this_site(web_app: Flask) -> None:
    client = web_app.test_client()
    token = csrf_token(client)
    response = client.post("/login?next=/worklist%3Fstep%3Dx", data={"username": "loket", "password": DEMO_PASSWORD,
                                                                     "csrf_token": token})
    assert response.headers["Location"] == "/worklist?step=x"


@pytest.mark.parametrize("action", ["claim", "release"])
@pytest.mark.parametrize("target", ["/\t/evil.example/phish", "/\r\n/evil.example", "//evil.example"])
def test_claim_and_release_never_send_the_browser_elsewhere(web_app: Flask, action: str, target: str) -> None:
    open_pbg(web_app)
    client = signed_in(web_app, "loket")
    from tests.test_permissions import _token_of

    c = web_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        from sqlalchemy import select

        from app.engine.models import HumanTask

        task_id = session.scalars(select(HumanTask.id)).first()
    response = client.post(f"/tasks/{task_id}/{action}", data={"csrf_token": _token_of(client), "next": target})
    assert response.status_code == 302
    assert _is_same_site(response.headers["Location"]), response.headers["Location"]


def _nested(depth: int) -> str:
    return '{"data": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_deeply_nested_json_to_the_api_is_a_bad_request(web_app: Flask, depth: int) -> None:
    client = web_app.test_client()
    token = token_for(web_app, "loket")
    response = api(client, token, "POST", "/api/v1/tasks/1/complete", data=_nested(depth),
                   content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_the_depth_limit_holds_at_its_edge_and_brackets_inside_strings_do_not_count() -> None:
    from app.web.json_provider import MAX_JSON_DEPTH, JSONTooDeep, LimitedJSONProvider

    provider = LimitedJSONProvider(Flask(__name__))
    assert provider.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(JSONTooDeep):
        provider.loads(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    shallow = '{"note": "' + "[{" * 500 + '", "rows": [[1], {"a": [2]}]}'
    assert provider.loads(shallow)["rows"] == [[1], {"a": [2]}]  # many brackets, nested three deep: walked, kept


def test_deeply_nested_json_to_the_designer_is_a_bad_request(web_app: Flask) -> None:
    client = signed_in(web_app, "perancang")
    from tests.test_permissions import _token_of

    token = _token_of(client)
    body = '{"xml": "<x/>", "base_version": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/designer/drafts", data=body, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400


@pytest.mark.parametrize("limit", ["0", "-3", "201", "lots"])
def test_api_limit_outside_the_documented_range_is_refused(web_app: Flask, limit: str) -> None:
    client = web_app.test_client()
    assert_error(api(client, token_for(web_app, "loket"), "GET", f"/api/v1/tasks?limit={limit}"), 400, "bad_request")


@pytest.mark.parametrize(("path", "allowed"), [("/api/v1/me", {"GET", "HEAD", "OPTIONS"}),
                                               ("/login", {"GET", "HEAD", "OPTIONS", "POST"}),
                                               ("/healthz", {"GET", "HEAD", "OPTIONS"})])
def test_method_not_allowed_says_which_methods_are(web_app: Flask, path: str, allowed: set[str]) -> None:
    response: Any = web_app.test_client().delete(path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
