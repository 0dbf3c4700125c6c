"""The web tier's own CPU per API request, in process: whole building-permit files driven through the
JSON API with Flask's test client (no HTTP server), each request's CPU time split into the service call
its view makes (the completion, the file's state, the worklist query, the intake) and everything else
(token, hooks, parsing, JSON, the request's commit; jobs are recorded, not sent to a broker):
``python -m benchmarks.api_overhead``.

On a fresh PostgreSQL database when the server answers (as benchmarks/http.py), else on SQLite. Compare
two trees by running it alternately in each; the machine's speed swings, so compare ratios.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import app.api.views as views
from app import create_app
from app.config import Settings
from app.publisher import RecordingPublisher
from benchmarks import SECRET_KEY
from benchmarks.http import _intake_request
from benchmarks.raw import STEPS
from benchmarks.run import _tokens, postgres_url, prepare

KINDS = ("intake", "get_file", "complete", "worklist", "me")
_inside = [0.0]  # CPU seconds of the current request spent in its service call


def _timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _inside[0] += time.process_time() - started

    return wrapper


def run(url: str, tmp: Path, files: int) -> dict[str, tuple[float, float]]:
    """Per kind of request: (CPU ms in total, CPU ms outside its service call), averaged over ``files`` files."""
    for name in ("complete_task", "file_summary", "open_tasks", "register_application"):
        setattr(views, name, _timed(getattr(views, name)))
    c = prepare(url, tmp)
    tokens = _tokens(c)
    c.db.dispose()
    app = create_app(Settings(database_url=url, var_dir=tmp, secret_key=SECRET_KEY, env="bench"),
                     publisher=RecordingPublisher())
    client = app.test_client()
    fields, documents = _intake_request()
    totals = {kind: [0.0, 0.0, 0] for kind in KINDS}

    def request(kind: str, method: str, path: str, lane: str, **kwargs: Any) -> Any:
        _inside[0] = 0.0
        started = time.process_time()
        response = client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[lane]}"}, **kwargs)
        spent = time.process_time() - started
        total = totals[kind]
        total[0] += spent
        total[1] += spent - _inside[0]
        total[2] += 1
        return response

    def one_file() -> None:
        data: dict[str, Any] = dict(fields)
        data.update({k: (io.BytesIO(content), name) for k, (name, content) in documents.items()})
        opened = request("intake", "POST", "/api/v1/files", "front_office", data=data,
                         content_type="multipart/form-data")
        assert opened.status_code == 201, opened.text
        number = opened.get_json()["file_number"]
        for lane, payload in STEPS[1:]:
            state = request("get_file", "GET", f"/api/v1/files/{number}", lane).get_json()
            [task] = [t for t in state["open_tasks"] if t["lane"] == lane]
            done = request("complete", "POST", f"/api/v1/tasks/{task['id']}/complete", lane, json={"data": payload})
            assert done.status_code == 200, done.text
            request("worklist", "GET", f"/api/v1/tasks?lane={lane}", lane)

    for _ in range(3):  # warm: imports, caches, connections
        one_file()
    for total in totals.values():
        total[:] = [0.0, 0.0, 0]
    for _ in range(files):
        one_file()
    for _ in range(10 * files):  # the floor of any API request: the token and the hooks (on their own, after the files)
        request("me", "GET", "/api/v1/me", "verifier")
    return {kind: (t * 1000 / n, o * 1000 / n) for kind, (t, o, n) in totals.items() if n}


def bench(files: int | None = None) -> dict[str, tuple[float, float]]:
    files = files or int(os.environ.get("BENCH_API_FILES", "15"))
    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-api-"))
    pg = postgres_url()
    try:
        results = run(pg[0] if pg else f"sqlite:///{tmp / 'bench.sqlite'}", tmp, files)
    finally:
        if pg is not None:
            pg[1]()
        shutil.rmtree(tmp, ignore_errors=True)
    for kind, (total, outside) in results.items():
        print(f"[api {kind:8s}] CPU {total:6.2f} ms/request, of which outside its service call {outside:5.2f} ms")
    return results


if __name__ == "__main__":
    bench()
