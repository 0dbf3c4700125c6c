"""The floor under ``service/raw``: the least any durable service must add to raw SpiffWorkflow per step.

Each step, by hand-written DBAPI statements on the service's own database and connection settings:
the caller's token read, the task and its instance's state read, the state loaded, the task run, one
history row, the state written under a version check, the task row closed, the next task rows opened,
one commit. No ORM, no form validation, no SLA clock, no permits, no script sandbox: a service that
did only this would still do less than the office needs, so ``floor/raw`` is the most any
implementation could reach on this engine, database and machine, and ``service/floor`` says how
much of that room the service leaves unused.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sqlalchemy.engine import Engine

from benchmarks.raw import STEPS, raw_engine, raw_spec

_TOKEN = hashlib.sha256(b"floor").hexdigest()
_TABLES = ("floor_event", "floor_task", "floor_instance", "floor_token", "floor_user")


class Floor:
    """The floor's own tables (``floor_*``) in the bench's database, and its run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        key = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            for table in _TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            for ddl in ("CREATE TABLE floor_user (id INTEGER PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL)",
                        "CREATE TABLE floor_token (id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
                        " user_id INTEGER NOT NULL REFERENCES floor_user (id))",
                        f"CREATE TABLE floor_instance (id {key}, state TEXT NOT NULL, version INTEGER NOT NULL)",
                        f"CREATE TABLE floor_task (id {key}, instance_id INTEGER NOT NULL REFERENCES floor_instance (id),"
                        " guid TEXT NOT NULL, lane TEXT NOT NULL, status TEXT NOT NULL)",
                        "CREATE INDEX floor_task_instance ON floor_task (instance_id)",
                        f"CREATE TABLE floor_event (id {key}, instance_id INTEGER NOT NULL REFERENCES floor_instance (id),"
                        " kind TEXT NOT NULL, detail TEXT NOT NULL)"):
                cur.execute(ddl)
            cur.execute(self._sql("INSERT INTO floor_user (id, name, active) VALUES (1, 'floor', ?)"), (True,))
            cur.execute(self._sql("INSERT INTO floor_token (id, token_hash, user_id) VALUES (1, ?, 1)"), (_TOKEN,))
            conn.commit()
        finally:
            conn.close()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder)

    def run(self, instances: int) -> float:
        """Instances per second: the building permit, every step one committed transaction as above."""
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        from app.engine.spiff import dump_state, load_state

        spec, subprocesses = raw_spec()
        engine = raw_engine()
        q = self._sql
        conn = self.engine.raw_connection()
        try:
            cur = conn.cursor()

            def open_tasks(workflow: Any, instance_id: int) -> int | None:
                task_id = None
                for task in workflow.get_tasks(state=TaskState.READY, manual=True):
                    cur.execute(q("INSERT INTO floor_task (instance_id, guid, lane, status) VALUES (?, ?, ?, 'open')"
                                  " RETURNING id"), (instance_id, str(task.id), task.task_spec.lane))
                    task_id = _one(cur)[0]
                return task_id

            started = time.perf_counter()
            for n in range(instances):
                wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
                wf.get_tasks(state=TaskState.READY)[0].set_data(file_number=f"PBG-2026-{n:06d}",
                                                                file_serial=f"2026/{n + 1:06d}", resubmission_days=14)
                wf.do_engine_steps()
                cur.execute(q("INSERT INTO floor_instance (state, version) VALUES (?, 1) RETURNING id"), (dump_state(wf),))
                instance_id = _one(cur)[0]
                cur.execute(q("INSERT INTO floor_event (instance_id, kind, detail) VALUES (?, 'started', '{}')"),
                            (instance_id,))
                task_id = open_tasks(wf, instance_id)
                conn.commit()
                for _lane, payload in STEPS:
                    cur.execute(q("SELECT u.id FROM floor_token t JOIN floor_user u ON u.id = t.user_id"
                                  " WHERE t.token_hash = ? AND u.active"), (_TOKEN,))
                    _one(cur)
                    cur.execute(q("SELECT t.guid, i.state, i.version FROM floor_task t"
                                  " JOIN floor_instance i ON i.id = t.instance_id WHERE t.id = ?"), (task_id,))
                    _guid, state, version = _one(cur)
                    wf = load_state(state, spec, subprocesses, engine)
                    [task] = wf.get_tasks(state=TaskState.READY, manual=True)
                    task.set_data(**payload)
                    task.run()
                    wf.do_engine_steps()
                    cur.execute(q("INSERT INTO floor_event (instance_id, kind, detail) VALUES (?, 'task_completed', ?)"),
                                (instance_id, json.dumps(payload)))
                    cur.execute(q("UPDATE floor_instance SET state = ?, version = version + 1 WHERE id = ? AND version = ?"),
                                (dump_state(wf), instance_id, version))
                    assert cur.rowcount == 1
                    cur.execute(q("UPDATE floor_task SET status = 'completed' WHERE id = ?"), (task_id,))
                    task_id = open_tasks(wf, instance_id)
                    conn.commit()
                assert wf.is_completed()
            return instances / (time.perf_counter() - started)
        finally:
            conn.close()


def _one(cursor: Any) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row
