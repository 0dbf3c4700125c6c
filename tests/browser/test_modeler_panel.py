"""The modeler as an Indonesian designer meets it: bpmn-js's palette and context pad speak
Indonesian (English in EN mode), the diagram opens whole and clear of the palette, and a plain
task explains itself in the side panel and becomes a user task in one click."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

ADD_PLAIN_TASK = """() => {
  const modeler = window.ptspModeler;
  const registry = modeler.get('elementRegistry');
  const shape = modeler.get('modeling').createShape({ type: 'bpmn:Task' }, { x: 1350, y: 550 },
                                                     registry.get('participant_building_permit'));
  modeler.get('selection').select(shape);
  return shape.id;
}"""

BOXES = """() => {
  const box = (node) => node.getBoundingClientRect();
  const gfx = (id) => box(document.querySelector(`.djs-element[data-element-id="${id}"]`));
  const starts = window.ptspModeler.get('elementRegistry').filter(e => e.type === 'bpmn:StartEvent');
  return {palette: box(document.querySelector('.djs-palette')).right,
          pool: gfx('participant_building_permit').left,
          start: gfx(starts[0].id).left,
          canvas: box(document.querySelector('#designer-canvas')),
          diagram: box(document.querySelector('.djs-element[data-element-id="participant_building_permit"]'))};
}"""


def _open_building_permit(page: Any, base: str, query: str = "") -> None:
    page.goto(f"{base}/designer/modeler?process=building_permit{query}")
    page.wait_for_selector("body[data-modeler-ready=true]")


def test_the_diagram_opens_whole_and_clear_of_the_palette_with_indonesian_tools(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    _open_building_permit(page, live_server)
    boxes = page.evaluate(BOXES)
    assert boxes["palette"] < boxes["pool"] < boxes["start"]  # lane labels and the start event are visible
    assert boxes["diagram"]["right"] <= boxes["canvas"]["right"] + 1  # and the whole pool fits
    assert boxes["diagram"]["bottom"] <= boxes["canvas"]["bottom"] + 1
    assert page.get_attribute(".djs-palette .entry[data-action='create.start-event']", "title") == "Buat peristiwa mulai"
    assert page.get_attribute(".djs-palette .entry[data-action='hand-tool']", "title") == "Alat geser kanvas"

    page.evaluate("() => window.ptspModeler.get('selection').select("
                  "window.ptspModeler.get('elementRegistry').get('check_documents'))")
    assert page.get_attribute(".djs-context-pad .entry[data-action=delete]", "title") == "Hapus"
    assert page.get_attribute(".djs-context-pad .entry[data-action='append.append-task']", "title") == "Sambung tugas"


def test_english_mode_keeps_the_modelers_english(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    _open_building_permit(page, live_server, "&lang=en")
    assert page.get_attribute(".djs-palette .entry[data-action='create.start-event']", "title") == "Create start event"


def test_a_plain_task_explains_itself_and_becomes_a_user_task_in_one_click(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    _open_building_permit(page, live_server)
    page.evaluate(ADD_PLAIN_TASK)
    plain = page.locator("[data-testid=plain-task]")
    expect(plain).to_be_visible()
    assert "tugas biasa" in plain.inner_text()
    expect(page.locator("#designer-panel-form")).to_be_hidden()
    page.click("#designer-make-user-task")
    expect(page.locator("#designer-panel-form")).to_be_visible()
    expect(plain).to_be_hidden()
    selected = page.evaluate("() => window.ptspModeler.get('selection').get().map(e => e.type)")
    assert selected == ["bpmn:UserTask"]
    page.select_option("#prop-lane", "verifier")  # and it is now an officer's step to set up
    assert page.locator("#prop-lane").input_value() == "verifier"


LANE_TEXTS = """(selector) => Array.from(document.querySelectorAll(selector + ' .djs-element.djs-shape'))
  .filter(g => g.querySelector('text.djs-label[data-lane-key]'))
  .map(g => g.querySelector('text.djs-label').textContent)"""


def test_diagrams_show_lane_titles_not_keys(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/catalogue/building_permit")  # the public catalogue's viewer
    page.wait_for_selector("#catalogue-diagram text.djs-label[data-lane-key]")
    lanes = page.evaluate(LANE_TEXTS, "#catalogue-diagram")
    assert "Loket Pelayanan" in lanes and "Kepala Dinas" in lanes
    assert not {"front_office", "head", "verifier"} & set(lanes)

    sign_in(page, live_server, "perancang")
    _open_building_permit(page, live_server)
    lanes = page.evaluate(LANE_TEXTS, "#designer-canvas")
    assert "Verifikator Berkas" in lanes and "verifier" not in lanes
    # ... while the diagram keeps the key the engine reads, and a redraw keeps the title.
    page.evaluate("""() => { const m = window.ptspModeler; const lane = m.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Lane' && e.businessObject.name === 'cashier')[0];
        m.get('modeling').resizeShape(lane, {x: lane.x, y: lane.y, width: lane.width, height: lane.height + 20}); }""")
    assert "Kasir" in page.evaluate(LANE_TEXTS, "#designer-canvas")
    names = page.evaluate("() => window.ptspModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')"
                          ".map(e => e.businessObject.name)")
    assert "cashier" in names
