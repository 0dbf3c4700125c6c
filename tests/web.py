"""Driving the web application in tests the way a browser does: real CSRF tokens,
real sign-in, real cookies."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

DEMO_PASSWORD = "rahasia-petugas-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> TestResponse:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client: FlaskClient, path: str, data: dict[str, Any], token_from: str | None = None,
              **kwargs: Any) -> TestResponse:
    """POST a form with the CSRF token of the page it comes from."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def signed_in(app: Flask, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
