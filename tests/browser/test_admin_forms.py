"""In a real browser, the administrator's and the head's forms: the office calendar (a refused weekend
date, then a holiday added and removed), the managers' responsibilities (assigned and removed), and the
head revoking a permit (too short a reason refused, then revoked with one). Screenshots of each."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.permits.test_verification import granted_trade_licence


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _rows(page: Any) -> str:
    return str(page.locator("table tbody").first.inner_text())


def test_the_administrator_changes_the_office_calendar(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/calendar?year=2026")
    page.fill('input[name="day"]', "2026-12-26")  # a Saturday
    page.fill('input[name="reason"]', "Kerja bakti kabupaten")
    page.click('button[value="add"]')
    page.wait_for_load_state()
    error = page.locator('[role="alert"]').inner_text()
    assert "26 Desember 2026 jatuh pada akhir pekan" in error and "Kerja bakti" not in _rows(page), error
    assert page.input_value('input[name="reason"]') == "Kerja bakti kabupaten"  # what was typed stays
    _shot(page, "admin-calendar-refused")

    page.fill('input[name="day"]', "2026-12-28")
    page.fill('input[name="reason"]', "Keputusan Bupati tentang libur daerah")
    page.click('button[value="add"]')
    page.wait_for_load_state()
    assert "Kalender disimpan" in page.locator("body").inner_text()
    row = page.locator("table tbody tr", has_text="Keputusan Bupati")
    expect(row).to_have_count(1)
    assert "Hari libur tambahan" in row.inner_text()
    _shot(page, "admin-calendar-added")

    row.locator('button[value="clear"]').click()
    page.wait_for_load_state()
    assert "Keputusan Bupati" not in _rows(page)


def test_the_administrator_assigns_and_removes_a_managers_responsibility(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/responsibilities")
    page.select_option('select[name="username"]', "manajer")
    page.select_option('select[name="process_id"]', "building_permit")
    page.select_option('select[name="lane"]', "verifier")
    page.click('button[value="assign"]')
    page.wait_for_load_state()
    assert "Tanggung jawab disimpan" in page.locator("body").inner_text()
    row = page.locator("table tbody tr", has_text="Retno Wulandari")
    expect(row, _rows(page)).to_have_count(1)
    assert "Bangunan Gedung" in row.inner_text() and "Verifikator" in row.inner_text()  # names, not keys
    _shot(page, "admin-responsibilities")

    row.locator('button[value="unassign"]').click()
    page.wait_for_load_state()
    expect(page.locator("table tbody tr", has_text="Retno Wulandari")).to_have_count(0)


def test_the_head_revokes_a_permit_with_a_reason(page: Any, live_server: str, live_app: Any) -> None:
    permit = granted_trade_licence(live_app.extensions["ptsp"])
    sign_in(page, live_server, "kepala")
    page.goto(f"{live_server}/permits/{permit.id}")
    page.click("summary:has-text('Cabut izin')")
    page.fill('textarea[name="reason"]', "tutup")
    page.click("details button[type=submit]")  # the browser holds a reason under 10 characters back
    assert page.evaluate("document.querySelector('textarea[name=reason]').validity.tooShort")
    assert "Dicabut" not in page.locator("main").inner_text()

    page.fill('textarea[name="reason"]', "Tempat usaha ditutup permanen oleh pemilik.")
    page.click("details button[type=submit]")
    expect(page.locator("summary:has-text('Cabut izin')")).to_have_count(0)  # the revoked page has loaded
    body = page.locator("main").inner_text()
    assert "Izin dicabut" in page.locator("body").inner_text()
    assert "Tempat usaha ditutup permanen" in body
    _shot(page, "permit-revoked")
