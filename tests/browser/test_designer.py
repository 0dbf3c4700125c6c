"""The process designer in a real browser: open the building permit in the modeler, add a
step, set its lane and form in the side panel, validate (problems marked, then fixed),
deploy, and find version 2 in the list. Also: the form editor's live preview."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from app.engine.definitions import latest_definition
from app.engine.models import ProcessDefinition
from tests.browser.conftest import sign_in

ADD_REVIEW_STEP = """() => {
  const modeler = window.ptspModeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  // Between the permit draft and its numbering, in the technical team's lane for now.
  modeling.removeConnection(registry.get('flow_draft_number'));
  const shape = modeling.createShape({ type: 'bpmn:UserTask' }, { x: 1350, y: 550 },
                                     registry.get('participant_building_permit'));
  modeling.updateProperties(shape, { id: 'review_draft', name: 'Telaah draf izin' });
  modeling.connect(registry.get('draft_permit'), shape);
  modeling.connect(shape, registry.get('assign_permit_number'));
  modeler.get('selection').select(shape);
}"""

LANE_OF = """(id) => {
  const registry = window.ptspModeler.get('elementRegistry');
  const element = registry.get(id);
  const lanes = registry.filter(e => e.type === 'bpmn:Lane'
    && (e.businessObject.flowNodeRef || []).includes(element.businessObject));
  return lanes.map(l => l.businessObject.name);
}"""


def test_designer_adds_a_step_sets_lane_and_form_validates_and_deploys(page: Any, live_server: str,
                                                                       live_app: Any) -> None:
    errors: list[str] = []  # script errors, CSP refusals, failed requests (the browser's own favicon aside)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)

    sign_in(page, live_server, "perancang")
    assert page.locator("h1").inner_text() == "Perancangan proses"
    page.click("tbody[data-process=building_permit] th a")
    page.click("a[role=button]:has-text('Buka di pemodel')")
    page.wait_for_selector("body[data-modeler-ready=true]")
    assert page.locator("[data-element-id=check_documents]").count() > 0

    page.evaluate(ADD_REVIEW_STEP)
    assert page.locator("#designer-panel-id").inner_text() == "review_draft"
    assert page.evaluate(LANE_OF, "review_draft") == ["technical_team"]

    # The side panel: move it to the verifier's lane.
    page.select_option("#prop-lane", "verifier")
    assert page.evaluate(LANE_OF, "review_draft") == ["verifier"]
    assert page.locator("#prop-lane").input_value() == "verifier"

    # Validate: the missing form is listed and marked on the step.
    page.click("#designer-validate")
    problem = page.locator("#designer-problems li[data-element-id=review_draft]")
    problem.wait_for()
    assert "belum memiliki formulir" in problem.inner_text()
    expect(page.locator(".djs-element.ptsp-invalid[data-element-id=review_draft]")).to_have_count(1)
    expect(page.locator(".ptsp-problem-badge")).to_have_count(1)
    assert "masalah" in page.locator("#designer-status").inner_text()

    # Fix it in the panel: form, due time, segregation from the drafter, escalation.
    page.locator("#designer-problems li[data-element-id=review_draft]").click()
    page.select_option("#prop-form", "pbg_permit_draft.json")
    page.fill("#prop-due", "2")
    page.locator("#prop-due").dispatch_event("change")
    page.select_option("#prop-separate", ["draft_permit"])
    page.select_option("#prop-escalation", "manager")
    page.click("#designer-validate")
    page.wait_for_selector("#designer-status.designer-status-ok")
    assert page.locator("#designer-status").inner_text() == "Diagram siap dipasang."
    expect(page.locator("#designer-problems li")).to_have_count(0)
    expect(page.locator(".ptsp-invalid")).to_have_count(0)

    page.click("#designer-deploy")
    page.wait_for_selector("[data-testid=deployed-link]")
    assert page.locator("[data-testid=deployed-link]").inner_text() == "Versi 2 dipasang."
    assert page.locator("#modeler-source").inner_text() == "(versi 2)"  # the heading follows the deploy
    page.click("[data-testid=deployed-link]")
    page.wait_for_load_state()
    expect(page.locator("[data-testid=versions] tr[data-version='2']")).to_have_count(1)
    page.goto(f"{live_server}/designer")
    versions = page.locator("tbody[data-process=building_permit] tr[data-version='2']")
    assert "perancang" in versions.inner_text()

    c = live_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        v2 = latest_definition(session, "building_permit")
        assert v2 is not None and v2.version == 2
        review = v2.user_tasks["review_draft"]
        assert (review["lane"], review["form"], review["due_working_days"]) == ("verifier", "pbg_permit_draft.json", 2)
        assert review["properties"]["separateFrom"] == "draft_permit"
        assert review["properties"]["escalationRole"] == "manager"
        # What the modeler did not touch round-trips: the other steps keep their spiffworkflow properties.
        assert v2.user_tasks["check_documents"]["properties"]["slaClockStart"] == "true"
        assert v2.user_tasks["receive_resubmission"]["properties"]["waitingOnApplicant"] == "true"
        assert session.scalars(select(ProcessDefinition.deployed_by).where(
            ProcessDefinition.id == v2.id)).one() == "perancang"
    assert errors == []


def test_the_form_editor_previews_the_form_as_it_is_typed(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    page.goto(f"{live_server}/designer/forms/new")
    page.fill("textarea#form-schema", '{"type": "object", "properties": {"luas": {"title": "Luas lantai", '
                                      '"type": "number"}}}')
    page.wait_for_selector("#form-preview input[name=luas]")
    assert "Luas lantai" in page.locator("#form-preview").inner_text()
    page.fill("textarea#form-schema", '{"type": "object", "properties": {"luas": {"type": "bilangan"}}}')
    page.wait_for_selector("[data-testid=preview-errors]")
    assert "Skema JSON tidak sah di /properties/luas/type" in page.locator("#form-preview").inner_text()
