"""HTTP end to end: gunicorn on the bench database with a real Celery worker; whole building-permit
files driven through the JSON API (opened by the API's intake, then every step completed) with 1,
4 and 16 client threads; and, in the same run, interleaved, raw SpiffWorkflow behind a minimal
Flask endpoint (benchmarks/raw_http.py) under the same gunicorn settings: the floor for any HTTP
service on this engine.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from app.config import ROOT
from benchmarks import SECRET_KEY, raw_http
from benchmarks.raw import STEPS
from benchmarks.run import _tokens, prepare
from tests.files.intake_helpers import browser_form, registration

GUNICORN = ["--workers", "2", "--threads", "4"]  # 2 cores
LOCAL_REDIS = "redis://127.0.0.1:6379/6"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_TICK = os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def cpu(self) -> tuple[float, float]:
        """CPU seconds (user + system) so far of the gunicorn workers (the master's children), and of
        every other live process of the server's session (the master, the script processes)."""
        workers = others = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone
            ppid, session = int(fields[1]), int(fields[3])
            if session != self.proc.pid:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / _TICK
            if ppid == self.proc.pid:
                workers += seconds
            else:
                others += seconds
        return workers, others

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_up(url: str, server: Server, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited; the end of {log.name}:\n"
                               + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its workers still booting
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def _intake_request() -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    form = browser_form(registration())
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    files = {k: (v[1], v[0].getvalue()) for k, v in form.items() if not isinstance(v, str)}
    return fields, files


def service_file(base: str, tokens: dict[str, str], http: requests.Session, latencies: list[float]) -> int:
    """One file opened and driven to its end; the number of HTTP requests it took."""
    fields, files = _intake_request()
    opened = http.post(f"{base}/api/v1/files", data=fields, files=files,
                       headers={"Authorization": f"Bearer {tokens['front_office']}"}, timeout=60)
    assert opened.status_code == 201, opened.text
    number = opened.json()["file_number"]
    for lane, payload in STEPS[1:]:
        auth = {"Authorization": f"Bearer {tokens[lane]}"}
        state = http.get(f"{base}/api/v1/files/{number}", headers=auth, timeout=60).json()
        [task] = [t for t in state["open_tasks"] if t["lane"] == lane]
        started = time.perf_counter()
        done = http.post(f"{base}/api/v1/tasks/{task['id']}/complete", json={"data": payload}, headers=auth, timeout=60)
        latencies.append(time.perf_counter() - started)
        assert done.status_code == 200, done.text
    return 1 + 2 * (len(STEPS) - 1)


def raw_file(base: str, _tokens: dict[str, str], http: requests.Session, latencies: list[float]) -> int:
    key = http.post(f"{base}/raw/files", timeout=60).json()["id"]
    completed = False
    for lane, payload in STEPS:
        started = time.perf_counter()
        done = http.post(f"{base}/raw/files/{key}/complete", json={"lane": lane, "data": payload}, timeout=60)
        latencies.append(time.perf_counter() - started)
        assert done.status_code == 200, done.text
        completed = done.json()["completed"]
    assert completed
    return 1 + len(STEPS)


@dataclass
class Tally:
    """What the clients of one side saw over its blocks, and the server's CPU time meanwhile."""

    latencies: list[float] = field(default_factory=list)
    files: int = 0
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # the gunicorn workers
    other_cpu: float = 0.0  # the rest of the server's session (master, script processes)

    def summary(self) -> dict[str, float]:
        q = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [self.latencies[0]] * 99
        return {"files/s": self.files / self.seconds, "completions/s": self.files * len(STEPS) / self.seconds,
                "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000,
                "cpu_ms": self.cpu * 1000 / self.requests, "other_cpu_ms": self.other_cpu * 1000 / self.requests}


def drive(one_file: Callable[..., int], server: Server, base: str, tokens: dict[str, str], threads: int,
          seconds: float, tally: Tally | None = None) -> Tally:
    """Files driven for ``seconds`` by ``threads`` clients (each finishing its file in hand), added to
    ``tally`` with the server's CPU time meanwhile."""
    tally = tally if tally is not None else Tally()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        http = requests.Session()
        while time.monotonic() < deadline:
            mine: list[float] = []
            made = one_file(base, tokens, http, mine)
            with lock:
                tally.latencies.extend(mine)
                tally.files += 1
                tally.requests += made

    cpu_before = server.cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(client) for _ in range(threads)]:
            future.result()
    tally.seconds += time.perf_counter() - started
    cpu_after = server.cpu()
    tally.cpu += cpu_after[0] - cpu_before[0]
    tally.other_cpu += cpu_after[1] - cpu_before[1]
    return tally


def _line(label: str, threads: int, r: dict[str, float]) -> str:
    return (f"[http {label:7s}] {threads:2d} threads: {r['files/s']:6.2f} files/s, {r['completions/s']:7.1f} completions/s, "
            f"completion p50/p95/p99 = {r['p50']:.0f}/{r['p95']:.0f}/{r['p99']:.0f} ms, "
            f"web CPU {r['cpu_ms']:.2f} ms/request (+{r['other_cpu_ms']:.2f} outside the web workers)")


def broker_url(tmp: Path) -> str:
    """$BENCH_BROKER_URL, else the local Redis a production office runs (database 6, emptied) when it
    answers, else the embedded SQLite broker."""
    if os.environ.get("BENCH_BROKER_URL"):
        return os.environ["BENCH_BROKER_URL"]
    import redis

    try:
        client = redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1)
        client.flushdb()
        return LOCAL_REDIS
    except redis.RedisError:
        return f"sqla+sqlite:///{tmp / 'broker.sqlite'}"


def run(url: str, tmp: Path, seconds: float | None = None, blocks: int | None = None) -> list[str]:
    """``seconds`` per side and thread count, in ``blocks`` alternating between the service and the raw
    floor (the order flips every block, so a swing in the machine's load hits both alike)."""
    seconds = seconds or float(os.environ.get("BENCH_HTTP_SECONDS", "10"))
    blocks = blocks or int(os.environ.get("BENCH_HTTP_BLOCKS", "2"))
    c = prepare(url, tmp)
    tokens = _tokens(c)
    c.db.dispose()
    env = {**os.environ, "PTSP_DATABASE_URL": url, "PTSP_VAR_DIR": str(tmp),
           "PTSP_BROKER_URL": broker_url(tmp),
           "RAW_HTTP_DB": str(tmp / "raw.sqlite"),
           "PTSP_SECRET_KEY": SECRET_KEY}
    print(f"broker: {env['PTSP_BROKER_URL'].split('://')[0]}")
    raw_http.create_store(env["RAW_HTTP_DB"])
    web_port, raw_port = _port(), _port()
    servers = [
        Server([sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{web_port}", "app.wsgi:application"],
               env, tmp / "web.log"),
        Server([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--loglevel=WARNING"],
               env, tmp / "worker.log"),
        Server([sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{raw_port}", "benchmarks.raw_http:app"],
               env, tmp / "raw.log"),
    ]
    lines = []
    try:
        service, raw = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{raw_port}"
        _wait_up(f"{service}/api/openapi.json", servers[0], tmp / "web.log")
        _wait_up(f"{raw}/raw/none", servers[2], tmp / "raw.log")
        drive(service_file, servers[0], service, tokens, 2, 2)  # warm both (imports, caches, connections)
        drive(raw_file, servers[2], raw, tokens, 2, 2)
        for threads in (1, 4, 16):
            sides = [(service_file, servers[0], service, Tally()), (raw_file, servers[2], raw, Tally())]
            for block in range(blocks):
                for one_file, server, base, tally in (sides if block % 2 == 0 else sides[::-1]):
                    drive(one_file, server, base, tokens, threads, seconds / blocks, tally)
            s, r = sides[0][3].summary(), sides[1][3].summary()
            print(_line("service", threads, s))
            print(_line("raw", threads, r))
            lines.append(f"http service/raw [{threads} threads] = {s['completions/s'] / r['completions/s']:.2f} "
                         f"(completions/s {s['completions/s']:.1f} / {r['completions/s']:.1f})")
            lines.append(f"http web CPU ms/request [{threads} threads]: service {s['cpu_ms']:.2f} / raw {r['cpu_ms']:.2f} "
                         f"(+ outside the web workers: {s['other_cpu_ms']:.2f} / {r['other_cpu_ms']:.2f})")
    finally:
        for server in servers:
            server.stop()
    for line in lines:
        print(line)
    return lines


def bench() -> list[str]:
    """On a fresh PostgreSQL database when the server answers, else on SQLite."""
    import shutil
    import tempfile

    from benchmarks.run import postgres_url

    tmp = Path(tempfile.mkdtemp(prefix="ptsp-bench-http-"))
    pg = postgres_url()
    try:
        print(f"HTTP end to end on {'PostgreSQL' if pg else 'SQLite'} (gunicorn {' '.join(GUNICORN)}, one worker)")
        return run(pg[0] if pg else f"sqlite:///{tmp / 'bench.sqlite'}", tmp)
    finally:
        if pg is not None:
            pg[1]()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    bench()
