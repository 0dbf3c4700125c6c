"""What chaining costs a step (nothing but its own rows), and chaining the rows written before 0013."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, text

from app.clock import FixedClock
from app.config import Settings
from app.container import Container
from app.engine.models import ProcessInstance
from app.evidence.keys import office_identity
from app.evidence.services import check_integrity
from app.migrate import upgrade
from app.publisher import RecordingPublisher
from tests.catalogue import samples as s
from tests.walking import do, open_new


def test_a_completion_writes_its_history_links_with_no_statement_of_their_own(web_app: Flask,
                                                                              deployed: Container) -> None:
    number = open_new(deployed, "trade_licence")
    statements: list[str] = []
    event.listen(deployed.db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split())))
    do(deployed, number, "register_application", s.SIUP_REGISTRATION)
    chain = [st.split(" (")[0] for st in statements if "chain_head" in st or "pg_advisory" in st
             or (st.split(" ")[0] in {"INSERT", "UPDATE", "DELETE"} and "instance_event" in st)]
    # The event's own INSERT (it was written before chaining too), no lock or head row of its own ...
    assert chain == ["INSERT INTO instance_event"]
    # ... and the head moved within the one instance UPDATE the step makes anyway.
    [update] = [st for st in statements if st.startswith("UPDATE process_instance")]
    assert "history_head" in update and "state" in update and "lock_version" in update


@pytest.mark.commits
def test_the_migration_chains_existing_rows_in_the_order_they_were_written(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:  # a fresh database at 0005
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    upgrade(database_url, "0005")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO process_definition (id, process_id, name, version, content_hash, source_name, "
                          "bpmn_xml, user_tasks, deployed_at, deployed_by) VALUES (1, 'p', 'P', 1, 'x', 'p.bpmn', "
                          "'<x/>', '{}', '2026-01-05 01:00:00+00:00', 't')"))
        for i in (1, 2):
            conn.execute(text("INSERT INTO process_instance (id, definition_id, status, state, lock_version, "
                              "started_at, updated_at, started_by) VALUES (:i, 1, 'running', '{}', 1, "
                              "'2026-01-05 01:00:00+00:00', '2026-01-05 01:00:00+00:00', 'loket')"), {"i": i})
        for n, (instance_id, kind) in enumerate([(1, "started"), (2, "started"), (1, "task_completed"),
                                                 (1, "completed"), (2, "task_completed")]):
            conn.execute(text("INSERT INTO instance_event (instance_id, at, kind, actor, detail) VALUES "
                              "(:i, :at, :k, 'loket', '{\"n\": 1}')"), {"i": instance_id, "k": kind,
                                                                          "at": f"2026-01-05 0{n + 1}:00:00+00:00"})
        for n in range(3):
            conn.execute(text("INSERT INTO audit_entry (at, actor, action, subject_type, subject_id, detail) VALUES "
                              "(:at, 'perancang', 'form.saved', 'form', :s, '{}')"),
                         {"at": f"2026-01-05 0{n + 1}:00:00+00:00", "s": f"f{n}"})
    engine.dispose()
    upgrade(database_url)
    c = Container(Settings(database_url=database_url, var_dir=tmp_path / "var",
                           broker_url=f"sqla+sqlite:///{tmp_path / 'b.sqlite'}"),
                  clock=FixedClock(), publisher=RecordingPublisher())
    try:
        with c.db.unit_of_work() as session:
            report = check_integrity(session, c.settings, office_identity(c.settings))
            heads = dict(session.execute(select(ProcessInstance.id, ProcessInstance.history_seq)).all())
        assert report.ok and report.links == 8, report.breaks
        assert heads == {1: 3, 2: 2}
        with c.db.engine.begin() as conn:
            conn.execute(text("UPDATE instance_event SET actor = 'x' WHERE kind = 'completed'"))
        with c.db.unit_of_work() as session:
            [broken] = check_integrity(session, c.settings, office_identity(c.settings)).breaks
        assert str(broken).startswith("process instance 1: instance_event 4 (seq 3): expected row_hash")
    finally:
        c.db.dispose()
