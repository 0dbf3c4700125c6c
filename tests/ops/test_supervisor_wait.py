"""`make run` prints the address only once /healthz answers, and says it is waiting meanwhile."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.supervisor import wait_until_healthy


class _Health:
    status = 503
    calls = 0


def _serve(state: type[_Health]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.calls += 1
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/healthz"
    server.shutdown()
    server.server_close()


@pytest.fixture
def health() -> Iterator[tuple[str, type[_Health]]]:
    state = type("State", (_Health,), {})
    for url in _serve(state):
        yield url, state


def test_it_waits_for_200_and_says_it_is_waiting(health: tuple[str, type[_Health]]) -> None:
    url, state = health
    said: list[str] = []
    threading.Timer(0.6, lambda: setattr(state, "status", 200)).start()
    started = time.monotonic()
    assert wait_until_healthy(url, lambda: True, every=0.05, say=said.append) == 200
    assert time.monotonic() - started >= 0.55 and state.calls > 3  # not before the health check says so


def test_nothing_listening_yet_then_up(health: tuple[str, type[_Health]]) -> None:
    url, state = health
    state.status = 200
    closed = url.replace(url.rsplit(":", 1)[1].split("/")[0], "9")  # port 9: nothing answers
    ticks = iter(range(100))
    assert wait_until_healthy(closed, lambda: next(ticks) < 5, every=0.01) is None  # gave up when a part died
    assert wait_until_healthy(url, lambda: True, every=0.01) == 200


def test_a_web_that_answers_but_is_not_healthy_is_reported_with_its_status(health: tuple[str, type[_Health]]) -> None:
    url, state = health
    state.status = 503
    assert wait_until_healthy(url, lambda: True, settle_seconds=0.2, every=0.02) == 503


def test_it_tells_the_user_every_five_seconds(health: tuple[str, type[_Health]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, state = health
    clock = iter([0.0, 0.0, 2.0, 5.5, 7.0, 11.0, 12.0])
    monkeypatch.setattr("app.supervisor.time.monotonic", lambda: next(clock))
    monkeypatch.setattr("app.supervisor.time.sleep", lambda s: setattr(state, "status", 200) if state.calls >= 5 else None)
    said: list[str] = []
    assert wait_until_healthy(url, lambda: True, settle_seconds=100, say=said.append) == 200
    assert said == ["menunggu layanan siap / waiting for the service ... 5 s",
                    "menunggu layanan siap / waiting for the service ... 11 s"]
