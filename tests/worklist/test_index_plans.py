"""The worklist's indexes cover open steps only (a finished file's steps add no index entries),
and the worklist's queries are still answered from them: on SQLite and on PostgreSQL, also under
a generic plan, where a bound ``status`` parameter could not be matched to the indexes' condition."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection

from app.auth.models import User
from app.container import Container
from app.worklist.queries import PageRequest, WorklistFilters, open_tasks, worklist
from tests import samples
from tests.walking import do_step, open_pbg


def _captured(office: Container, read: Any) -> list[tuple[str, dict[str, Any]]]:
    """The SELECTs on human_task that pick steps by lane, run while ``read(session)`` runs."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and re.search(r"human_task\.lane (=|IN)", statement):
            seen.append((statement, dict(parameters or {}) if isinstance(parameters, dict) else parameters))

    event.listen(office.db.engine, "before_cursor_execute", keep)
    try:
        with office.db.unit_of_work() as session:
            read(session)
    finally:
        event.remove(office.db.engine, "before_cursor_execute", keep)
    return seen


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def _plan(conn: Connection, statement: str, parameters: Any) -> str:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    # PostgreSQL: the statement prepared with $n parameters and explained under a generic plan
    # (the one a server settles on for a statement run again and again), with sequential scans
    # discouraged so that a tiny table does not hide whether the index is usable at all.
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%")
    conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql("SET enable_seqscan = off")
    conn.exec_driver_sql("DEALLOCATE ALL")
    conn.exec_driver_sql(f"PREPARE worklist_query AS {prepared}")
    arguments = ", ".join(_sql_literal(parameters[name]) for name in names)
    rows = conn.exec_driver_sql(f"EXPLAIN EXECUTE worklist_query({arguments})" if names
                                else "EXPLAIN EXECUTE worklist_query").all()
    conn.exec_driver_sql("DEALLOCATE worklist_query")
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(("filters", "index"), [
    (WorklistFilters(), "ix_human_task_worklist"),
    (WorklistFilters(step="register_application"), "ix_human_task_worklist_step"),
    (WorklistFilters(permit_type="building_permit"), "ix_human_task_worklist_type"),
])
def test_a_lanes_worklist_is_read_from_the_index_of_open_steps(web_app: Flask, office: Container,
                                                              filters: WorklistFilters, index: str) -> None:
    done = open_pbg(office, "Budi Santoso")
    do_step(office, done, "loket", samples.REGISTRATION)  # a completed step: in no worklist index
    open_pbg(office, "Siti Rahmawati")

    def read(session: Any) -> None:
        loket = session.scalars(select(User).where(User.username == "loket")).one()
        page = worklist(session, loket, filters, PageRequest(), now=office.clock.now())
        assert len(page.rows) == 1 and page.rows[0].applicant == "Siti Rahmawati"

    statements = _captured(office, read)
    assert statements and all("status = 'open'" in sql for sql, _ in statements)  # a literal, not a parameter
    with office.db.engine.connect() as conn:
        plans = [_plan(conn, sql, parameters) for sql, parameters in statements]
    # The page (in the index's own order) from the index of its filter; the count from any index of open steps.
    assert any(re.search(rf"\b{index}\b", plan) for plan in plans), plans
    for plan in plans:
        assert re.search(r"\bix_human_task_worklist", plan), plan


def test_open_steps_of_lanes_are_read_from_the_index_of_open_steps(web_app: Flask, office: Container) -> None:
    open_pbg(office, "Siti Rahmawati")

    def read(session: Any) -> None:
        assert [t.lane for t in open_tasks(session, {"front_office", "verifier"})] == ["front_office"]

    [(sql, parameters)] = _captured(office, read)
    with office.db.engine.connect() as conn:
        assert re.search(r"\bix_human_task_worklist", _plan(conn, sql, parameters))


def test_the_worklist_indexes_hold_only_open_steps(web_app: Flask, office: Container) -> None:
    """What an operator sees in the schema: the indexes' condition, whatever the backend."""
    with office.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                     "AND tbl_name = 'human_task'")).all()
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'human_task'")).all()
    definitions = {name: sql or "" for name, sql in rows}
    for name in ("ix_human_task_worklist", "ix_human_task_worklist_step",
                 "ix_human_task_worklist_type"):
        assert re.search(r"WHERE \(*\(*status\)*(::text)? = 'open'", definitions[name]), definitions[name]
    assert "ix_human_task_instance_id" not in definitions  # the unique (instance_id, task_guid) serves
    assert "ix_human_task_open_lane" not in definitions  # any of the above serves
