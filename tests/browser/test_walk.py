"""Issue 9 §2: every process the catalogue lists, walked through the browser along every path
to an end event (granted, refused, documents returned then resubmitted, documents never
completed), read from the deployed diagram and forms; no process has a test of its own.

Each step's task is done by an officer of its lane: sign in, open the worklist, open and claim
the task, fill the form with values generated from its JSON Schema (gateway-deciding fields
set to drive the path's branch), complete. A timer (documents never completed) fires when the
office clock passes it, as the beat sweep would. A granted file ends with each permit printable
as a PDF. Every task page is kept as a screenshot in test-artifacts/walk/.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.clock import FixedClock
from app.config import ROOT, Settings
from app.engine.models import HumanTask, ProcessInstance
from app.files.models import ApplicationFile
from app.publisher import RecordingPublisher
from tests.browser.conftest import ARTIFACTS, WAIT_MS, axe_violations, serve, sign_in
from tests.browser.form_filler import Unfillable, ValueGenerator, fill
from tests.browser.walk_plan import Decision, Diagram, WalkPath
from tests.conftest import OFFICE_USERS

WALK_ARTIFACTS = ARTIFACTS / "walk"
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
# Monday 2 February 2026, 08:00 in Jakarta: a working day.
START = datetime(2026, 2, 2, 1, 0, tzinfo=UTC)


def catalogue_processes() -> list[str]:
    """The process ids the catalogue lists, and those of any diagram in processes/ it does not
    list (whose walk then fails: the front desk cannot register a file of it)."""
    listed = {json.loads(p.read_text())["process_id"] for p in (PROCESSES / "catalogue").glob("*.json")}
    return sorted(listed | {Diagram(p).process_id for p in PROCESSES.glob("*.bpmn")})


def diagram_of(process_id: str) -> Diagram:
    for path in sorted(PROCESSES.glob("*.bpmn")):
        diagram = Diagram(path)
        if diagram.process_id == process_id:
            return diagram
    raise AssertionError(f"the catalogue lists {process_id} but no diagram in processes/ has it")


def schema_of(name: str) -> dict[str, Any]:
    return json.loads((FORMS / name).read_text())


def catalogue_entry(process_id: str) -> dict[str, Any]:
    for p in (PROCESSES / "catalogue").glob("*.json"):
        data = json.loads(p.read_text())
        if data["process_id"] == process_id:
            return data
    raise AssertionError(f"{process_id} has a diagram in processes/ but no catalogue entry in processes/catalogue/: "
                         "the front desk cannot register a file of it")


# ---------------------------------------------------------------------------
@pytest.fixture
def walk_app(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The web application on either database, deployed, with one officer per lane, on an
    office clock the test moves (so timers can fire without waiting)."""
    from app import create_app
    from app.engine.definitions import deploy_directory
    from tests.conftest import seed_office_users

    settings = Settings(database_url=database_url, var_dir=tmp_path / "var",
                        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    app = create_app(settings, clock=FixedClock(START), publisher=RecordingPublisher())
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        outcomes = deploy_directory(session, settings.processes_dir, "test", c.clock, c.forms.names())
        assert all(o.error is None for o in outcomes), outcomes
        seed_office_users(session)
    yield app
    c.db.dispose()


@pytest.fixture
def walk_server(walk_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(walk_app) as base:
        yield base


class Office:
    """One signed-in browser context per officer, reused across the walks of a process."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.chromium, self.base = chromium, base
        self.pages: dict[str, Any] = {}
        self.checked: set[str] = set()  # the pages axe-core has checked (one per step and page kind)

    def page_of(self, username: str) -> Any:
        if username not in self.pages:
            context = self.chromium.new_context(locale="id-ID", timezone_id="Asia/Jakarta",
                                                viewport={"width": 1280, "height": 900})
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            sign_in(page, self.base, username)
            assert "/login" not in page.url, f"{username} could not sign in"
            self.pages[username] = page
        return self.pages[username]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def officer_for(lane: str, avoid: set[str]) -> str:
    """An officer of the lane, preferring one who has only that lane, never one the step must be
    separated from."""
    candidates = sorted((u for u in OFFICE_USERS if lane in u[3] and u[0] not in avoid), key=lambda u: len(u[3]))
    assert candidates, f"no officer of lane {lane!r} left to do the step (separated from {sorted(avoid)})"
    return candidates[0][0]


class Walk:
    def __init__(self, app: Any, office: Office, diagram: Diagram, path: WalkPath, index: int) -> None:
        self.app, self.office, self.diagram, self.path, self.index = app, office, diagram, path, index
        self.c = app.extensions["ptsp"]
        self.pending = list(path.decisions)
        self.done_by: dict[str, str] = {}
        self.shots: list[Path] = []
        self.folder = WALK_ARTIFACTS / diagram.process_id
        self.folder.mkdir(parents=True, exist_ok=True)
        self.number = ""
        self.unprinted_refusal = False
        self.refusal_letters: set[str] = set()  # print links offered on the task pages

    def today(self) -> Any:
        return (self.c.clock.now() + timedelta(hours=7)).date()

    def shot(self, page: Any, name: str) -> None:
        path = self.folder / f"{self.index}-{len(self.shots):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        kind = f"{self.diagram.process_id}:{name}"
        if kind not in self.office.checked:
            self.office.checked.add(kind)
            problems = axe_violations(page)
            assert not problems, f"WCAG 2.1 AA on {name} ({page.url}): " + "; ".join(problems)

    # -- steps ----------------------------------------------------------------
    def register(self) -> None:
        entry = catalogue_entry(self.diagram.process_id)
        form_name = entry["registration"]["form"]
        task = self.diagram.nodes[entry["registration"]["task"]]
        page = self.office.page_of(officer_for(task.lane or "front_office", set()))
        page.goto(f"{self.office.base}/intake?permit_type={self.diagram.process_id}")
        values = ValueGenerator(schema_of(form_name), self.today(), self.overrides_for(task.id)).form()
        fill(page, "form.intake-form", form_name, values)
        self.shot(page, task.id)
        page.click("form.intake-form button[type=submit]")
        page.wait_for_load_state()
        if "/receipt" not in page.url:
            raise AssertionError(f"{form_name}: the registration was refused: {self.errors(page)}")
        self.number = page.locator('[data-testid="file-number"]').inner_text()
        self.shot(page, "receipt")
        self.done_by[task.id] = "loket"

    def overrides_for(self, task_id: str) -> dict[str, Any]:
        if self.pending and not self.pending[0].timer:
            decided = self.diagram.form_values(self.pending[0], schema_of)
            if decided and decided[0] == task_id:
                self.pending.pop(0)
                return decided[1]
        return {}

    def open_tasks(self) -> list[HumanTask]:
        with self.c.db.unit_of_work() as session:
            file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == self.number)).one()
            rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id,
                                                           HumanTask.status == "open").order_by(HumanTask.id)).all()
            session.expunge_all()
            return list(rows)

    def instance(self) -> ProcessInstance:
        with self.c.db.unit_of_work() as session:
            file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == self.number)).one()
            instance = session.get(ProcessInstance, file.instance_id)
            assert instance is not None
            session.expunge(instance)
            return instance

    def fire_timer(self, decision: Decision) -> None:
        """The office clock passes the timer, and the sweep (what beat runs) fires it."""
        from app.engine.timers import fire_due_timers

        due = self.instance().next_timer_at
        assert due is not None, f"{self.number}: no timer waiting at {decision.at}"
        self.c.clock.set(due + timedelta(minutes=1))
        assert fire_due_timers(self.c) >= 1

    def do_task(self, task: HumanTask) -> None:
        node = self.diagram.nodes[task.task_name]
        separated = {self.done_by[t] for t in node.properties.get("separateFrom", "").split(",") if t in self.done_by}
        username = officer_for(task.lane, separated)
        page = self.office.page_of(username)
        page.goto(f"{self.office.base}/worklist")
        row = page.locator(f'tr[data-task-id="{task.id}"]')
        expect(row, f"{username} does not see {task.title} of {self.number} on the worklist").to_have_count(1)
        row.locator("a").first.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == task.title
        page.click("form[action$='/claim'] button")
        page.wait_for_load_state()
        self.refusal_letters.update(page.locator('main a[href*="refusal"]').evaluate_all("as => as.map(a => a.href)"))
        values = (ValueGenerator(schema_of(task.form), self.today(), self.overrides_for(node.id)).form()
                  if task.form else {})
        if task.form:
            fill(page, "form.task-form", task.form, values)
        self.shot(page, node.id)
        page.click("form.task-form button[type=submit]")
        page.wait_for_load_state()
        if not page.url.endswith("/worklist"):
            raise AssertionError(f"{task.form}: {task.title} of {self.number} was refused: {self.errors(page)}")
        self.done_by[node.id] = username

    @staticmethod
    def errors(page: Any) -> str:
        texts = page.locator(".field-error, #task-problem, .flash-error, p.error").evaluate_all(
            "es => es.map(e => (e.id || '') + ': ' + e.textContent.trim())")
        return "; ".join(texts) or page.locator("main").inner_text()[:500]

    def run(self) -> None:
        self.register()
        for _ in range(100):
            tasks = self.open_tasks()
            if not tasks:
                break
            task = tasks[0]
            if self.pending and self.pending[0].timer and self.pending[0].at == task.task_name:
                self.fire_timer(self.pending.pop(0))
                continue
            self.do_task(task)
        assert not self.open_tasks(), f"{self.number}: the walk did not finish"
        assert self.instance().status == "completed", f"{self.number}: {self.instance().status}"
        assert not self.pending, f"{self.number}: choices not taken: {self.pending}"
        self.check_end()

    def outcome(self) -> str | None:
        """The outcome the diagram's scripts on this path record (granted, refused, ...)."""
        for flow_id in self.path.flows:
            flow = self.diagram.flows.get(flow_id)
            if flow is None:
                continue
            for node_id in (flow.source, flow.target):
                script = self.diagram.script_of(node_id)
                if script and script.startswith("outcome = "):
                    return script.split("=", 1)[1].strip().strip('"')
        return None

    def check_end(self) -> None:
        page = self.office.page_of("loket")
        page.goto(f"{self.office.base}/files/{self.number}")
        self.shot(page, "file")
        page.goto(f"{self.office.base}/files/{self.number}/permits")
        links = page.locator('[data-testid="permit-row"] a[href$=".pdf"]')
        outcome = self.outcome()
        if outcome == "granted":
            expected = len(catalogue_entry(self.diagram.process_id).get("permits") or [None])
            expect(links, f"{self.number}: {expected} permits expected").to_have_count(expected)
            for href in links.evaluate_all("as => as.map(a => a.href)"):
                response = page.context.request.get(href)
                assert response.ok and response.headers["content-type"] == "application/pdf", href
                assert response.body().startswith(b"%PDF"), href
            self.shot(page, "permits")
        else:
            expect(links, f"{self.number}: a permit was issued on a {outcome} path").to_have_count(0)
            if outcome == "refused":
                page.goto(f"{self.office.base}/files/{self.number}")
                letters = self.refusal_letters | set(
                    page.locator('main a[href*="refusal"]').evaluate_all("as => as.map(a => a.href)"))
                if not letters:
                    self.unprinted_refusal = True
                    return
                for href in sorted(letters):
                    page.goto(href)
                    assert page.locator("main").inner_text().strip(), f"{self.number}: {href} is empty"
                    self.shot(page, "refusal-letter")


@pytest.mark.parametrize("process_id", catalogue_processes())
@pytest.mark.commits
def test_every_path_of_every_process(process_id: str, chromium: Any, walk_app: Any, walk_server: str) -> None:
    diagram = diagram_of(process_id)
    catalogue_entry(process_id)
    walks = diagram.walks(schema_of)
    left_to_scripts = sorted({d.flow for p in diagram.paths() for d in p.decisions if not d.timer}
                             - {d.flow for w in walks for d in w.decisions})
    if left_to_scripts:  # decided by a script's result (e.g. fee > 0), not by a form: taken as the values fall
        print(f"{process_id}: flows decided by scripts, not chosen by the walk: {left_to_scripts}")
    ends = {w.end_event for w in walks}
    assert ends == set(diagram.end_events), f"end events no path reaches: {set(diagram.end_events) - ends}"
    folder = WALK_ARTIFACTS / process_id
    shutil.rmtree(folder, ignore_errors=True)
    office = Office(chromium, walk_server)
    started = time.monotonic()
    shots = 0
    unprinted: list[str] = []

    try:
        for index, path in enumerate(walks):
            walk = Walk(walk_app, office, diagram, path, index)
            try:
                walk.run()
            except Unfillable as unfillable:
                raise AssertionError(f"{process_id} path {path.label(diagram)}: {unfillable}") from unfillable
            finally:
                shots += len(walk.shots)
                if walk.unprinted_refusal:
                    unprinted.append(walk.number)
                print(f"{process_id}: {path.label(diagram)}: {walk.number}, {len(walk.shots)} screenshots")
    finally:
        office.close()
        print(f"{process_id}: {len(walks)} paths, {shots} screenshots, {time.monotonic() - started:.1f} s")
    if unprinted:
        pytest.xfail(f"refusal letter printing is being built on branch office (issue 9 §7): {unprinted} were "
                     "refused with no letter to print")
