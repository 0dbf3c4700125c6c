"""Browser tests: the real app served on localhost, driven by Playwright in
Debian's headless chromium (no browser is ever downloaded). Screenshots of every
test are kept in test-artifacts/ (on failure too)."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.clock import SYSTEM_CLOCK
from app.config import ROOT, Settings
from app.publisher import RecordingPublisher
from tests.conftest import REQUIRE_SERVICES

CHROMIUM = os.environ.get("PTSP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
# How long a browser action (click, wait, screenshot) may wait. Generous on purpose: a passing run never
# waits this long, and CI shares two cores between chromium, the server and a second pytest worker, where
# a full-page screenshot of a diagram page once needed more than 15 s.
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)  # expect(...) retries its check until the page shows it, up to this bound
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"chromium is required for browser tests and missing at {CHROMIUM}")
        pytest.skip(f"no chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    """The whole web application on an embedded database, deployed, with one user per
    lane and role (password tests.web.DEMO_PASSWORD), before it is served."""
    from app import create_app
    from app.engine.definitions import deploy_directory
    from tests.conftest import seed_office_users

    shutil.copy(sqlite_template, tmp_path / "ptsp.sqlite")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ptsp.sqlite'}", var_dir=tmp_path / "var")
    app = create_app(settings, clock=SYSTEM_CLOCK, publisher=RecordingPublisher())
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        deploy_directory(session, settings.processes_dir, "test", c.clock, c.forms.names())
        seed_office_users(session)
    yield app
    c.db.dispose()


def _body_read_and_closed(app: Any) -> Any:
    """The app with each response body read whole and its iterable closed before the server writes it.

    werkzeug's development server closes the body only after draining the socket, and a browser that resets
    the connection (Chromium does, for a favicon it no longer wants) makes that drain raise first: the static
    file stays open until the garbage collector finds it, and the ResourceWarning fails whichever test is
    running. The app streams nothing, so reading the body first changes nothing the browser sees.
    """

    def wsgi(environ: Any, start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app served on an ephemeral localhost port, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, _body_read_and_closed(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def live_server(live_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(live_app) as base:
        yield base


@pytest.fixture
def browser_context(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    if "live_server" in request.fixturenames:
        request.getfixturevalue("live_server")  # served until the pages visited are checked below
    context = chromium.new_context(locale="id-ID", timezone_id="Asia/Jakarta", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    visited: list[str] = []  # every HTML page the test navigated to (GET), checked by axe-core afterwards
    context.on("response", lambda r: visited.append(r.url.split("#")[0])
               if r.request.is_navigation_request() and r.request.method == "GET" and r.url.startswith("http")
               and "text/html" in (r.headers.get("content-type") or "") else None)
    yield context
    ARTIFACTS.mkdir(exist_ok=True)
    problems = []
    checked = set()
    for index, page in enumerate(context.pages):
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
        if page.url.startswith("http") and not _failed(request):  # the page each test ends on (issue 9 §10)
            problems += [f"{page.url}: {p}" for p in axe_violations(page)]
            checked.add(page.url.split("#")[0])
    if not _failed(request):  # and every other page it visited, opened again as its last user
        page = context.new_page()
        for url in dict.fromkeys(visited):
            if url in checked:
                continue
            response = page.goto(url)
            if response is not None and "text/html" in (response.headers.get("content-type") or ""):
                problems += [f"{url}: {p}" for p in axe_violations(page)]
    context.close()
    assert not problems, "WCAG 2.1 AA: " + "; ".join(problems)


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is None or report.failed


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]  # read by browser_context's axe check
    return report


@pytest.fixture
def page(browser_context: Any) -> Any:
    return browser_context.new_page()


def sign_in(page: Any, base_url: str, username: str) -> None:
    """Sign in through the login form, as a person would."""
    from tests.web import DEMO_PASSWORD

    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


# -- Accessibility (issue 9 §10): axe-core from node_modules, injected by Playwright ----------
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[str]:
    """WCAG 2.1 AA violations on the page as it is now, one line each (rule, impact, where)."""
    if not AXE_SOURCE.exists():
        pytest.fail(f"axe-core is missing at {AXE_SOURCE}: run make install")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())  # evaluated over the protocol: the page's CSP does not apply
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"]]


def assert_accessible(page: Any, what: str = "") -> None:
    problems = axe_violations(page)
    assert not problems, f"{what or page.url}: " + "; ".join(problems)
