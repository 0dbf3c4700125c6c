"""Structured logging (app/logging_setup.py): one JSON line per event with the time, level, logger,
message, the request id (echoed back as X-Request-ID), the signed-in user and the file number."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from app.logging_setup import bound
from tests.web import signed_in


def lines(captured: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


@pytest.fixture
def probed(web_app: Flask) -> Flask:
    from flask_login import login_required

    @login_required  # as every officer's page: the signed-in user is loaded for the request
    def probe(file_number: str) -> str:
        logging.getLogger("app.probe").warning("probe of %s", file_number)
        return "ok"

    web_app.add_url_rule("/files/<file_number>/log-probe", "log_probe", probe)
    return web_app


def test_a_request_logs_one_json_line_with_its_context(probed: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    client = signed_in(probed, "loket")
    capsys.readouterr()
    response = client.get("/files/PBG-2026-000001/log-probe", headers={"X-Request-ID": "req-42.a"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-42.a"
    [line] = [line for line in lines(capsys.readouterr().err) if line["logger"] == "app.probe"]
    assert line["level"] == "WARNING" and line["message"] == "probe of PBG-2026-000001"
    assert line["request_id"] == "req-42.a" and line["user"] == "loket" and line["file_number"] == "PBG-2026-000001"
    assert abs(datetime.fromisoformat(line["time"]) - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_request_without_a_plain_id_gets_one(web_app: Flask) -> None:
    client = web_app.test_client()
    made = client.get("/login").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/login").headers["X-Request-ID"]
    forged = client.get("/login", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert forged != "x" * 500 and len(forged) == 32


def test_lines_outside_a_request_carry_the_bound_context_and_the_call_s_own(
        web_app: Flask, capsys: pytest.CaptureFixture[str]) -> None:  # web_app: logging is configured
    log = logging.getLogger("app.probe")
    with bound(request_id="celery-task-7"):
        log.warning("granted without a permit number", extra={"file_number": "SIUP-2026-000003"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("report failed")
    log.warning("after")
    granted, failed, after = [line for line in lines(capsys.readouterr().err) if line["logger"] == "app.probe"]
    assert granted["request_id"] == "celery-task-7" and granted["file_number"] == "SIUP-2026-000003"
    assert failed["level"] == "ERROR" and "ValueError: boom" in failed["exception"] and "file_number" not in failed
    assert "request_id" not in after


def _complete_registration(app: Flask) -> None:
    from tests import samples
    from tests.api.test_api import api, open_pbg, token_for

    client, token = app.test_client(), token_for(app, "loket")
    open_pbg(app)
    [task] = api(client, token, "GET", "/api/v1/tasks").get_json()["items"]
    done = api(client, token, "POST", f"/api/v1/tasks/{task['id']}/complete", json={"data": samples.REGISTRATION})
    assert done.status_code == 200, done.get_data(as_text=True)


def test_the_engine_s_inner_steps_are_not_logged_at_info(web_app: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    from app.logging_setup import configure_logging

    assert logging.getLogger().level == logging.INFO  # the default PTSP_LOG_LEVEL
    capsys.readouterr()
    _complete_registration(web_app)
    assert not [line for line in lines(capsys.readouterr().err) if line["logger"].startswith("spiff")]
    logging.getLogger("spiff.task").warning("the engine's own warning")
    [warned] = lines(capsys.readouterr().err)
    assert warned["logger"] == "spiff.task" and warned["level"] == "WARNING"
    try:
        configure_logging("DEBUG")  # asked for: every state change of every task
        _complete_registration(web_app)
        assert any(line["message"].startswith("State changed to") for line in lines(capsys.readouterr().err))
    finally:
        configure_logging("INFO")
