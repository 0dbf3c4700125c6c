"""The cost of a step, as a count that cannot flake: a task completion through the JSON API
(token check included) runs at most a handful of SQL statements and commits exactly once.
`make bench` prints the same figure as ``statements per completion``."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.engine import spiff
from app.engine.models import HumanTask
from app.files.models import ApplicationFile
from tests import samples
from tests.api.test_api import api, open_pbg, token_for

LANE_USERS = {"front_office": "loket", "verifier": "verifikator", "technical_team": "teknis",
              "cashier": "kasir", "head": "kepala"}
MEAN_BUDGET = 8  # statements per completion, averaged over the building permit
STEP_BUDGET = 12  # no single step above this (the handover also issues the permit: 11 today)


@pytest.mark.commits
def test_a_completion_runs_a_handful_of_statements_and_one_commit(web_app: Flask,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    c = web_app.extensions["ptsp"]
    loads: list[int] = []
    real_load = spiff.load_state

    def counted_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(spiff, "load_state", counted_load)
    client = web_app.test_client()
    number = open_pbg(web_app)
    tokens = {lane: token_for(web_app, username) for lane, username in LANE_USERS.items()}
    for token in tokens.values():
        assert api(client, token, "GET", "/api/v1/me").status_code == 200  # first use recorded

    statements: list[str] = []
    commits: list[int] = []
    unit_of_work_flushes: list[int] = []
    counting = False

    def on_statement(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if counting:
            statements.append(statement)

    def on_commit(_conn):  # type: ignore[no-untyped-def]
        if counting:
            commits.append(1)

    def on_flush(*_args):  # type: ignore[no-untyped-def]
        if counting:
            unit_of_work_flushes.append(1)

    event.listen(c.db.engine, "before_cursor_execute", on_statement)
    event.listen(c.db.engine, "commit", on_commit)
    event.listen(Session, "before_flush", on_flush)
    per_step: dict[str, tuple[int, int]] = {}
    file_reads: dict[str, int] = {}
    state_loads: dict[str, int] = {}
    flushes: dict[str, int] = {}
    try:
        for lane, payload in samples.BUILDING_PERMIT_WALK:
            with c.db.unit_of_work() as session:
                instance_id = session.scalars(select(ApplicationFile.instance_id).where(
                    ApplicationFile.file_number == number)).one()
                task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                               HumanTask.status == "open")).one()
                task_id, step = task.id, task.task_name
            statements.clear()
            commits.clear()
            loads.clear()
            unit_of_work_flushes.clear()
            counting = True
            response = api(client, tokens[lane], "POST", f"/api/v1/tasks/{task_id}/complete", json={"data": payload})
            counting = False
            assert response.status_code == 200, response.get_data(as_text=True)
            per_step[f"{len(per_step) + 1}. {step}"] = (len(statements), len(commits))
            file_reads[step] = sum(1 for q in statements if "FROM application_file" in q)
            state_loads[step] = len(loads)
            flushes[step] = len(unit_of_work_flushes)
    finally:
        event.remove(c.db.engine, "before_cursor_execute", on_statement)
        event.remove(c.db.engine, "commit", on_commit)
        event.remove(Session, "before_flush", on_flush)

    assert all(n_commits == 1 for _, n_commits in per_step.values()), per_step
    assert max(file_reads.values()) == 1, f"the runtime's listeners read the file once per step: {file_reads}"
    # Each step takes the workflow this process kept from the step before (app/engine/workflow_cache.py), and
    # the permit issuer and the applicant's notices read the data the step just wrote: no state is loaded.
    assert set(state_loads.values()) == {0}, f"the workflow state is never loaded: {state_loads}"
    # The step's own rows are written with plain statements and left clean: the ORM's unit of work runs
    # only for what a listener changed besides (the file's clock, a permit), at most once a step.
    assert max(flushes.values()) <= 1, flushes
    assert [step for step, n in flushes.items() if n == 0] == [
        "register_application", "receive_resubmission", "draft_permit"], flushes
    assert max(n for n, _ in per_step.values()) <= STEP_BUDGET, per_step
    mean = sum(n for n, _ in per_step.values()) / len(per_step)
    assert mean <= MEAN_BUDGET, f"{mean:.1f} statements per completion: {per_step}"


@pytest.mark.commits
def test_reading_through_the_api_writes_nothing_but_the_minute_of_last_use(web_app: Flask) -> None:
    from app.clock import FixedClock

    c = web_app.extensions["ptsp"]
    clock: FixedClock = c.clock
    client = web_app.test_client()
    token = token_for(web_app, "loket")
    writes: list[str] = []
    event.listen(c.db.engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: writes.append(statement)
                 if not statement.lstrip().upper().startswith("SELECT") else None)
    assert api(client, token, "GET", "/api/v1/me").status_code == 200
    assert [w for w in writes if "api_token" in w], "the first use is recorded"
    writes.clear()
    for _ in range(5):
        clock.advance(seconds=10)
        assert api(client, token, "GET", "/api/v1/me").status_code == 200
    assert writes == [], "GETs within the minute write nothing"
    clock.advance(minutes=1)
    assert api(client, token, "GET", "/api/v1/me").status_code == 200
    assert len([w for w in writes if "UPDATE api_token" in w]) == 1


@pytest.mark.commits
def test_reading_a_file_runs_four_statements_and_reads_only_what_it_shows(web_app: Flask) -> None:
    """An integration polls a file before each step: token, the file with its instance's status, open
    steps, history lines. Not read: the stored workflow, the definition, the events' details, the
    applicant's personal data, the SLA columns."""
    c = web_app.extensions["ptsp"]
    client = web_app.test_client()
    number = open_pbg(web_app)
    front, token = token_for(web_app, "loket"), token_for(web_app, "verifikator")
    [task] = api(client, front, "GET", "/api/v1/tasks").get_json()["items"]
    assert api(client, front, "POST", f"/api/v1/tasks/{task['id']}/complete",
               json={"data": samples.REGISTRATION}).status_code == 200
    assert api(client, token, "GET", "/api/v1/me").status_code == 200  # first use recorded
    statements: list[str] = []

    def on_statement(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(c.db.engine, "before_cursor_execute", on_statement)
    try:
        response = api(client, token, "GET", f"/api/v1/files/{number}")
    finally:
        event.remove(c.db.engine, "before_cursor_execute", on_statement)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["file_number"], body["process_id"], body["status"], body["applicant_name"]) == (
        number, "building_permit", "running", "Siti Rahmawati")
    assert [t["step"] for t in body["open_tasks"]] == ["check_documents"]
    assert body["open_tasks"][0]["file_number"] == number and body["open_tasks"][0]["lane"] == "verifier"
    assert [(e["kind"], e["step"], e["actor"]) for e in body["history"]][:2] == [
        ("started", None, "loket"), ("task_completed", "register_application", "loket")]
    assert len(statements) <= 4, statements
    read = " ".join(statements)
    for column in ("process_instance.state", "process_definition", "instance_event.detail", "application_file.applicant,",
                   "application_file.applicant_nik", "application_file.sla_"):
        assert column not in read, f"the file answer read {column}"
