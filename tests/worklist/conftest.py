"""Helpers of the officer-workspace tests: open files and walk them to a step through
the services, read the worklist page the way an officer reads it."""
from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from app.container import Container
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.models import HumanTask
from tests import samples
from tests.forms.test_render import as_browser_form
from tests.web import csrf_token

ENGINE_FIXTURES = Path(__file__).parent.parent / "engine" / "fixtures"

# The happy path of the building permit up to its signature: (username, payload).
UP_TO_SIGNATURE: list[tuple[str, dict[str, Any]]] = [
    ("loket", samples.REGISTRATION),
    ("verifikator", samples.CHECK_COMPLETE),
    ("teknis", samples.SURVEY),
    ("kasir", samples.PAYMENT),
    ("verifikator", samples.DRAFT),
]


@pytest.fixture
def office(web_app: Flask) -> Container:
    c: Container = web_app.extensions["ptsp"]
    return c


def set_due(c: Container, task_id: int, due: datetime | None) -> None:
    with c.db.unit_of_work() as session:
        session.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due))


def start_waiting_process(c: Container) -> int:
    """An instance of a second permit type (a test diagram) with one open front-desk step; its task id."""
    with c.db.unit_of_work() as session:
        definition = latest_definition(session, "wait_with_timer")
        if definition is None:
            deploy_diagram(session, (ENGINE_FIXTURES / "wait_with_timer.bpmn").read_bytes(), "wait_with_timer.bpmn",
                           "test", c.clock)
            definition = latest_definition(session, "wait_with_timer")
        assert definition is not None
        instance = c.runtime.start(session, definition, {"wait_for": "P30D"}, "loket")
        session.flush()
        return session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id)).one()


_ROW = re.compile(r'<tr data-task-id="(\d+)"')


def worklist_ids(client: FlaskClient, query: str = "") -> list[int]:
    """The task ids of the worklist page, in the order shown."""
    page = client.get(f"/worklist{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return [int(i) for i in _ROW.findall(page.get_data(as_text=True))]


def row_html(client: FlaskClient, task_id: int, query: str = "") -> str:
    page = client.get(f"/worklist{query}").get_data(as_text=True)
    match = re.search(rf'<tr data-task-id="{task_id}".*?</tr>', page, re.S)
    assert match, f"task {task_id} is not on the worklist"
    return match.group(0)


def browser_form(c: Container, form_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a browser posts for ``data`` on the form ``form_name`` (attachments as files)."""
    schema = c.forms.schema(form_name)
    form, files = as_browser_form(schema, data, schema)
    posted: dict[str, Any] = {key: form.getlist(key) for key in form}
    for key in files:
        upload = files[key]
        posted[key] = (io.BytesIO(upload.stream.read()), upload.filename)
    return posted


def submit_task(client: FlaskClient, task_id: int, fields: dict[str, Any], token_from: str | None = None) -> TestResponse:
    """POST the task form with the CSRF token of the page it comes from."""
    token = csrf_token(client, token_from or f"/tasks/{task_id}")
    return client.post(f"/tasks/{task_id}", data={**fields, "csrf_token": token}, content_type="multipart/form-data")
