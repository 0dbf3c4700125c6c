"""One transaction per web request: the request boundary commits once when the answer is a
success, and nothing a failed request wrote is left in the database (app/db.py, app/web/transaction.py)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask, abort, flash
from sqlalchemy import event, func, select

from app.auth.models import User
from app.db import after_commit, keep_on_error, request_session
from app.engine.models import HumanTask
from app.publisher import enqueue_after_commit
from tests.api.test_api import api, open_pbg, token_for

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# These tests count the COMMITs the database receives: real commits, not the savepoints that
# stand in for them elsewhere in the suite (tests/conftest.py).
pytestmark = pytest.mark.commits


@contextmanager
def counting_commits(app: Flask) -> Iterator[list[int]]:
    """The COMMITs the database receives meanwhile (one item each)."""
    engine = app.extensions["ptsp"].db.engine
    commits: list[int] = []

    def on_commit(_conn: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)


def attempts(app: Flask, username: str) -> int:
    with app.extensions["ptsp"].db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(User).where(User.username == f"probe-{username}")) or 0


def _write_attempt(username: str) -> None:
    session = request_session()
    session.add(User(username=f"probe-{username}", full_name="Probe", role="officer", password_hash="x"))
    session.flush()  # as services do: written, not committed


@pytest.fixture
def probe_app(web_app: Flask) -> Flask:
    """The app with a few routes that write and then answer in different ways."""
    ran: list[str] = web_app.config.setdefault("AFTER_COMMIT_RAN", [])

    def ok() -> str:
        _write_attempt("ok")
        enqueue_after_commit(request_session(), "workers.tasks.probe", 1)
        after_commit(request_session(), lambda: ran.append("ok"))
        return "written"

    def refused() -> tuple[str, int]:
        _write_attempt("refused")
        enqueue_after_commit(request_session(), "workers.tasks.probe", 2)
        after_commit(request_session(), lambda: ran.append("refused"))
        return "refused", 422

    def aborted() -> str:
        _write_attempt("aborted")
        abort(409)

    def crashed() -> str:
        _write_attempt("crashed")
        raise RuntimeError("a bug after the write")

    def kept() -> tuple[str, int]:
        _write_attempt("kept")
        keep_on_error()
        return "the refusal is the record", 401

    def commit_fails() -> str:
        _write_attempt("commit_fails")
        request_session().add(User(username="loket", full_name="duplicate", role="officer", password_hash="x"))
        flash("saved")
        return "not really"

    for view in (ok, refused, aborted, crashed, kept, commit_fails):
        web_app.add_url_rule(f"/_probe/{view.__name__}", view.__name__, view, methods=["GET", "POST"])
    web_app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is answered 500, as in production
    web_app.config["WTF_CSRF_ENABLED"] = False  # these routes are no forms
    return web_app


def test_a_successful_request_commits_once_then_publishes_its_jobs(probe_app: Flask) -> None:
    client = probe_app.test_client()
    publisher = probe_app.extensions["ptsp"].publisher
    publisher.jobs.clear()
    with counting_commits(probe_app) as commits:
        assert client.post("/_probe/ok").status_code == 200
    assert len(commits) == 1
    assert attempts(probe_app, "ok") == 1
    assert [job.args for job in publisher.jobs] == [(1,)]
    assert probe_app.config["AFTER_COMMIT_RAN"] == ["ok"]


@pytest.mark.parametrize(("path", "status"), [("refused", 422), ("aborted", 409), ("crashed", 500)])
def test_a_failing_request_leaves_nothing_written(probe_app: Flask, path: str, status: int) -> None:
    client = probe_app.test_client()
    publisher = probe_app.extensions["ptsp"].publisher
    publisher.jobs.clear()
    with counting_commits(probe_app) as commits:
        assert client.post(f"/_probe/{path}").status_code == status
    assert commits == []
    assert attempts(probe_app, path) == 0
    assert publisher.jobs == [], "no job is published for a transaction that did not commit"
    assert probe_app.config["AFTER_COMMIT_RAN"] == []


def test_a_refusal_that_is_itself_the_record_is_kept(probe_app: Flask) -> None:
    with counting_commits(probe_app) as commits:
        assert probe_app.test_client().post("/_probe/kept").status_code == 401
    assert len(commits) == 1
    assert attempts(probe_app, "kept") == 1


def test_a_commit_that_fails_is_an_error_and_leaves_nothing(probe_app: Flask) -> None:
    client = probe_app.test_client()
    assert client.post("/_probe/commit_fails").status_code == 500  # the duplicate username, found at commit
    assert attempts(probe_app, "commit_fails") == 0
    with client.session_transaction() as cookie:
        assert "_flashes" not in cookie, "no 'saved' message for what was not saved"


def test_an_api_request_commits_once_and_an_api_get_not_at_all(web_app: Flask) -> None:
    client = web_app.test_client()
    open_pbg(web_app)
    token = token_for(web_app, "loket")
    c = web_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        task_id = session.scalars(select(HumanTask.id).where(HumanTask.status == "open")).first()
    with counting_commits(web_app) as commits:
        # the token's first use and the claim: one transaction
        assert api(client, token, "POST", f"/api/v1/tasks/{task_id}/claim").status_code == 200
    assert len(commits) == 1
    with counting_commits(web_app) as commits:
        assert api(client, token, "GET", "/api/v1/tasks").status_code == 200
        assert api(client, token, "GET", f"/api/v1/tasks/{task_id}").status_code == 200
        assert api(client, token, "GET", "/api/v1/me").status_code == 200
    assert commits == [], "reading through the API commits nothing"
    with counting_commits(web_app) as commits:
        assert api(client, token, "GET", "/api/v1/tasks/999999").status_code == 404
    assert commits == []


def test_a_page_that_only_reads_commits_nothing(web_app: Flask) -> None:
    with counting_commits(web_app) as commits:
        assert web_app.test_client().get("/login").status_code == 200
        assert web_app.test_client().get("/track").status_code == 200
    assert commits == []
