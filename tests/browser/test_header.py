"""The page frame: the administrator's header stays on one line on a 1366 px office screen (and wraps
rather than cutting a link off on a narrower one), and
English mode translates page bodies too, not only the frame."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import ARTIFACTS, sign_in

ITEM_TOPS = """() => Array.from(document.querySelectorAll('header.topbar nav > ul > li'))
  .map(li => Math.round(li.getBoundingClientRect().top))"""


def test_the_admin_header_stays_on_one_line_at_1366_px(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "admin")
    for path in ("/admin/users", "/admin/calendar"):
        page.goto(f"{live_server}{path}")
        tops = page.evaluate(ITEM_TOPS)
        assert len(tops) > 5 and max(tops) - min(tops) <= 4, f"{path}: header items on several lines {tops}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-header-1366.png"))


def test_on_a_narrower_office_screen_no_header_link_is_cut_off(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/calendar")
    rights = page.evaluate("""() => Array.from(document.querySelectorAll('header.topbar nav > ul > li'))
      .map(li => Math.round(li.getBoundingClientRect().right))""")
    assert max(rights) <= 1280, f"header items end beyond the screen: {rights}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.click("header summary:has-text('Administrasi')")  # the administrator's pages, under one menu
    menu = page.locator("header [data-testid=nav-menu] ul")
    assert menu.is_visible() and "Tanggung jawab manajer" in menu.inner_text()
    assert menu.locator("a[aria-current=page]").inner_text() == "Kalender kerja"
    page.screenshot(path=str(ARTIFACTS / "admin-header-1280.png"))


def test_english_mode_translates_page_bodies_and_permit_names(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "perancang")
    page.click("header button[name=lang][value=en]")  # the frame's switch, as a person does it
    page.wait_for_load_state()
    page.goto(f"{live_server}/designer")
    main = page.locator("main").inner_text()
    assert "Process design" in main and "Building approval (PBG)" in main and "Nuisance permit (HO)" in main
    assert "Persetujuan Bangunan Gedung" not in main and "Perancangan proses" not in main
    page.goto(f"{live_server}/designer/forms/new")
    main = page.locator("main").inner_text()
    assert "Form builder" in main and "Add field" in main and "Pembuat formulir" not in main
    page.goto(f"{live_server}/designer/modeler")
    assert "Open a process" in page.locator("main").inner_text()


def test_on_a_phone_the_menu_line_starts_at_its_first_link(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/calendar")
    first = page.locator("header.topbar nav > ul:last-child > li").first
    assert first.bounding_box()["x"] >= 0, "the first links of the scrolling menu line are out of reach"
    page.click("header summary:has-text('Administrasi')")
    menu = page.locator("header [data-testid=nav-menu] ul")
    box = menu.bounding_box()
    assert menu.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "admin-header-phone.png"))
