"""The floor for any HTTP service on this engine: raw SpiffWorkflow behind a minimal Flask app.

The building permit's state lives in one SQLite table (the web processes share it), stored
after every step the way the service stores it (task tree and data; the parsed spec cached).
No forms, users, history or clock: ``gunicorn benchmarks.raw_http:app`` with
``RAW_HTTP_DB`` naming the SQLite file (made by :func:`create_store`).
"""
from __future__ import annotations

import itertools
import os
import sqlite3
import threading
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)
_local = threading.local()
_ids = itertools.count()


def create_store(path: str) -> None:
    """The state table, in WAL mode, made once before the web processes start: two processes
    switching a new file to WAL at their first request can find it locked (a 500 at warm-up)."""
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS wf (id TEXT PRIMARY KEY, state TEXT)")
    db.close()


def _db() -> sqlite3.Connection:
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(os.environ["RAW_HTTP_DB"], timeout=30, isolation_level=None)
    db: sqlite3.Connection = _local.db
    return db


def _engine() -> tuple[Any, dict[str, Any], Any]:
    if not hasattr(app, "_raw"):
        from benchmarks.raw import raw_engine, raw_spec

        spec, subprocesses = raw_spec()
        app._raw = (spec, subprocesses, raw_engine())  # type: ignore[attr-defined]
    return app._raw  # type: ignore[attr-defined, no-any-return]


@app.post("/raw/files")
def start() -> ResponseReturnValue:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from app.engine.spiff import dump_state

    spec, subprocesses, engine = _engine()
    key = f"{os.getpid()}-{next(_ids)}"
    wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
    wf.get_tasks(state=TaskState.READY)[0].set_data(file_number=key, file_serial=f"2026/{next(_ids):06d}",
                                                    resubmission_days=14)
    wf.do_engine_steps()
    _db().execute("INSERT INTO wf VALUES (?, ?)", (key, dump_state(wf)))
    return jsonify({"id": key}), 201


@app.post("/raw/files/<key>/complete")
def complete(key: str) -> ResponseReturnValue:
    from SpiffWorkflow.util.task import TaskState

    from app.engine.spiff import dump_state, load_state

    spec, subprocesses, engine = _engine()
    payload = request.get_json()
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    try:
        [state] = db.execute("SELECT state FROM wf WHERE id = ?", (key,)).fetchone()
        wf = load_state(state, spec, subprocesses, engine)
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        if task.task_spec.lane != payload["lane"]:
            db.execute("ROLLBACK")
            return jsonify({"error": "not your lane"}), 403
        task.set_data(**payload["data"])
        task.run()
        wf.do_engine_steps()
        db.execute("UPDATE wf SET state = ? WHERE id = ?", (dump_state(wf), key))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return jsonify({"completed": wf.is_completed()})
