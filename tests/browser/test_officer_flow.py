"""Issue 3's walk in a real browser: the front desk registers a file, a verifier
claims and completes the document check, and the head of office signs."""
from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_files import register_in_browser
from tests.walking import do_step


def open_task_from_worklist(page: Any, base: str, number: str, title: str) -> None:
    page.goto(f"{base}/worklist")
    row = page.locator("tr", has_text=number).filter(has_text=title)
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title


def test_front_desk_registers_verifier_checks_head_signs(page: Any, live_server: str, live_app: Flask) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    number = register_in_browser(page, live_server)
    page.screenshot(path=str(ARTIFACTS / "flow-1-receipt.png"), full_page=True)
    page.context.clear_cookies()

    sign_in(page, live_server, "verifikator")
    open_task_from_worklist(page, live_server, number, "Pemeriksaan kelengkapan berkas")
    page.click("form[action$='/claim'] button")
    page.wait_for_load_state()
    for box in ("doc_ktp", "doc_land_certificate", "doc_technical_drawings", "doc_site_plan",
                "doc_neighbour_consent", "documents_complete"):
        page.check(f'input[name="{box}"]')
    page.fill('textarea[name="check_notes"], input[name="check_notes"]', "Berkas lengkap dan benar.")
    page.screenshot(path=str(ARTIFACTS / "flow-2-check.png"), full_page=True)
    page.click("form.task-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/worklist")
    expect(page.locator("tbody tr", has_text=number)).to_have_count(0)  # the check is done, no longer listed
    page.context.clear_cookies()

    do_step(live_app.extensions["ptsp"], number, "teknis", samples.SURVEY)
    do_step(live_app.extensions["ptsp"], number, "kasir", samples.PAYMENT)
    do_step(live_app.extensions["ptsp"], number, "verifikator", samples.DRAFT)

    sign_in(page, live_server, "kepala")
    open_task_from_worklist(page, live_server, number, "Penandatanganan izin")
    page.check('input[name="decision"][value="setuju"]')
    page.fill('input[name="signed_on"]', "2026-11-27")
    page.screenshot(path=str(ARTIFACTS / "flow-3-sign.png"), full_page=True)
    page.click("form.task-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/worklist")

    page.goto(f"{live_server}/files/{number}")
    assert "Penyerahan izin" in page.locator("main").inner_text()  # the next step: handover
    page.screenshot(path=str(ARTIFACTS / "flow-4-file.png"), full_page=True)
