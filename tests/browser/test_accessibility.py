"""Issue 9 §10, by hand and kept: the officer's screens on a 390 px and a 320 px phone (no
sideways scroll, the "Ubah" links and the worklist's claim column on screen, a menu that leaves
room for the page), a "skip to content" link, a focus ring of at least 3:1 against white, and
the designer's "Unggah .bpmn" reachable by keyboard. axe-core checks every page on the way."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, assert_accessible, sign_in
from tests.browser.test_files import fill_registration

PHONES = [(390, 844), (320, 640)]


def register_file(page: Any, base: str) -> str:
    sign_in(page, base, "loket")
    page.goto(f"{base}/intake?permit_type=building_permit")
    fill_registration(page)
    page.click("form.intake-form button[type=submit]")
    page.wait_for_load_state()
    return page.locator('[data-testid="file-number"]').inner_text()


def sideways_overflow(page: Any) -> int:
    """How many pixels the page scrolls sideways (0: none)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def right_edge_outside(page: Any, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all(
        "(es) => es.filter(e => { const r = e.getBoundingClientRect();"
        " return r.width === 0 || r.right > window.innerWidth || r.left < 0; }).map(e => e.outerHTML.slice(0, 80))")


def contrast_with_white(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(parts[0]) + 0.7152 * channel(parts[1]) + 0.0722 * channel(parts[2])
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("width,height", PHONES)
def test_officer_screens_fit_a_phone(page: Any, live_server: str, width: int, height: int) -> None:
    number = register_file(page, live_server)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server}/files/{number}/receipt")
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-receipt.png"), full_page=True)
    assert sideways_overflow(page) <= 0, f"the receipt scrolls sideways at {width} px"
    assert_accessible(page)

    topbar = page.locator("header.topbar").bounding_box()
    assert topbar and topbar["height"] <= height / 4, f"the menu takes {topbar} of a {height} px screen"

    page.context.clear_cookies()
    sign_in(page, live_server, "verifikator")
    page.goto(f"{live_server}/worklist")
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-worklist.png"), full_page=True)
    assert sideways_overflow(page) <= 0, f"the worklist scrolls sideways at {width} px"
    row = page.locator("tbody tr", has_text=number)
    claim = 'tr[data-task-id] form[action$="/claim"] button'
    assert page.locator(claim).count() >= 1
    assert right_edge_outside(page, claim) == [], "the claim column is off-screen"
    row.locator("a").first.click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-task.png"), full_page=True)
    assert sideways_overflow(page) <= 0, f"the task page scrolls sideways at {width} px"
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users")
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-users.png"), full_page=True)
    assert sideways_overflow(page) <= 0, f"/admin/users scrolls sideways at {width} px"
    edit_links = page.locator("main a", has_text="Ubah")
    assert edit_links.count() > 0
    assert right_edge_outside(page, 'main a:text-is("Ubah")') == [], "an Ubah link is off-screen"
    assert_accessible(page)


def test_skip_link_and_focus_ring(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "verifikator")
    page.goto(f"{live_server}/worklist")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.tagName, document.activeElement.getAttribute('href'),"
                            " document.activeElement.textContent.trim()]")
    assert focused[0] == "A" and focused[1] == "#content", f"the first Tab reaches {focused}"
    assert focused[2] == "Langsung ke isi"
    assert page.locator("a.skip-link").is_visible()  # shown while focused
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }")
    assert ring[0] != "none" and float(ring[1].rstrip("px")) >= 2, ring
    assert contrast_with_white(ring[2]) >= 3, f"focus ring {ring[2]} has {contrast_with_white(ring[2]):.1f}:1"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"

    for _ in range(4):  # the menu's links and buttons show the same ring
        page.keyboard.press("Tab")
        ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                             " return [s.outlineStyle, s.outlineColor, document.activeElement.outerHTML.slice(0, 60)]; }")
        assert ring[0] != "none" and contrast_with_white(ring[1]) >= 3, ring
    assert_accessible(page)


def test_designer_upload_reachable_by_keyboard(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    page.goto(f"{live_server}/designer/modeler?process=building_permit")
    page.wait_for_load_state()
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.id"))
        if reached[-1] == "designer-upload":
            break
    assert reached[-1] == "designer-upload", f"Tab went through {reached} without reaching Unggah .bpmn"
    chosen: list[Any] = []
    page.on("filechooser", lambda chooser: chosen.append(chooser))
    for key in ("Enter", " ", "Enter"):  # Enter or Space on the focused control opens the chooser
        assert page.evaluate("() => document.activeElement.id") == "designer-upload"
        page.keyboard.press(key)
        for _ in range(50):
            if chosen:
                break
            page.wait_for_timeout(200)
        if chosen:
            break
    assert chosen, "Enter and Space on Unggah .bpmn opened no file chooser"
