"""The public catalogue in a real browser: no sign-in, the procedure diagram drawn read-only by
bpmn-js's viewer (under the page's Content-Security-Policy), and English on request."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_an_applicant_reads_the_catalogue_and_sees_the_diagram(page: Any, live_server: str) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: failed.append(str(error)))
    page.goto(f"{live_server}/catalogue")
    assert page.locator("h1").inner_text() == "Katalog layanan perizinan"
    page.click("a:text('Paket Izin Usaha Baru: HO, SIUP dan Reklame')")
    page.wait_for_selector("#catalogue-diagram .djs-container svg")
    # the three permit-specific steps of the bundle, drawn by the viewer
    for element in ("survey_nuisance", "verify_business", "survey_advertisement", "confirm_payment"):
        expect(page.locator(f'#catalogue-diagram [data-element-id="{element}"]')).to_have_count(1)
    expect(page.locator("#catalogue-diagram .djs-palette")).to_have_count(0)  # a viewer, not the modeler
    page.click("button[name=lang][value=en]")
    page.wait_for_selector("#catalogue-diagram .djs-container svg")
    assert page.locator("h1").inner_text() == "New business bundle: HO, SIUP and advertisement"
    assert "1. Requirements" in page.locator("main").inner_text()
    assert failed == []
