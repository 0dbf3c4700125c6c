"""The manager's desk in a real browser: the dashboard with its heat map (painted by bpmn-js under
the page's Content-Security-Policy, switchable), the file page's heat map, and the survey an
applicant answers after handover, published on /skm."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.clock import FixedClock
from app.container import Container
from app.desk.rollup import refresh_rollups
from app.publisher import RecordingPublisher
from tests.browser.conftest import ARTIFACTS, WAIT_MS, sign_in
from tests.desk.history import seed_month

NOVEMBER = "start=2026-11-01&end=2026-11-30"


@pytest.fixture
def history(live_app: Flask) -> dict[str, str]:
    """November 2026 of the office, walked on the served database with a clock of its own."""
    c = Container(live_app.extensions["ptsp"].settings, clock=FixedClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)),
                  publisher=RecordingPublisher())
    files = seed_month(c, c.clock)  # type: ignore[arg-type]
    refresh_rollups(c)
    c.db.dispose()
    return files


def watch_errors(page: Any) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith(
        "/favicon.ico") else None)
    page.on("pageerror", lambda error: failed.append(str(error)))
    return failed


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"desk-{name}.png"), full_page=True)


def test_the_manager_reads_the_month_and_its_heat_map(page: Any, live_server: str, history: dict[str, str]) -> None:
    failed = watch_errors(page)
    sign_in(page, live_server, "manajer")
    page.goto(f"{live_server}/dashboard?{NOVEMBER}&heat=trade_licence")
    assert page.locator("h1").inner_text() == "Dasbor kantor"
    assert page.locator("[data-testid=received]").inner_text() == "5"
    assert page.locator("[data-testid=on-time]").inner_text() == "66,7 %"
    page.wait_for_selector(".heat-diagram[data-painted]")
    assert int(page.locator(".heat-diagram").get_attribute("data-painted")) == 5  # the five steps of the SIUP
    # the slowest step (the head's signature, a week late once) is the darkest
    sign = page.locator('.heat-diagram [data-element-id="sign_permit"]').first
    assert "heat-4" in (sign.get_attribute("class") or "")
    expect(page.locator(".heat-legend li")).to_have_count(5)
    badge = page.locator('.heat-badge[data-step="sign_permit"]')
    assert "n=2" in badge.inner_text() and "Median" in (badge.get_attribute("title") or "")
    shot(page, "dashboard-median")
    page.check("input[name=heat-metric][value=overdue_rate]")
    page.wait_for_selector("[data-heatmap][data-metric=overdue_rate]")
    assert "50%" in page.locator('.heat-badge[data-step="sign_permit"]').inner_text()  # 1 of 2 signed late
    assert "heat-0" in (page.locator('.heat-diagram [data-element-id="register_application"]').first
                        .get_attribute("class") or "")
    shot(page, "dashboard-overdue")
    page.goto(f"{live_server}/dashboard?{NOVEMBER}&heat=trade_licence&lang=en")
    page.wait_for_selector(".heat-diagram[data-painted]")
    assert page.locator("h1").inner_text() == "Office dashboard"
    assert failed == []


def test_the_head_sees_the_heat_map_on_a_file_and_an_officer_is_refused(
        page: Any, browser_context: Any, live_server: str, history: dict[str, str]) -> None:
    failed = watch_errors(page)
    sign_in(page, live_server, "kepala")
    page.goto(f"{live_server}/files/{history['siup_open']}")
    page.wait_for_selector("[data-heatmap] .heat-diagram[data-painted]")
    expect(page.locator("#file-diagram .djs-container svg")).to_have_count(1)  # the file's own diagram is still there
    shot(page, "file-heatmap")
    assert failed == []
    officer = browser_context.new_page()
    sign_in(officer, live_server, "verifikator")
    response = officer.goto(f"{live_server}/dashboard")
    assert response is not None and response.status == 403
    officer.goto(f"{live_server}/files/{history['siup_open']}")
    expect(officer.locator("[data-heatmap]")).to_have_count(0)


def test_the_designer_switches_the_heat_map_on_over_the_modeler(
        page: Any, live_server: str, history: dict[str, str]) -> None:
    failed = watch_errors(page)
    sign_in(page, live_server, "perancang")
    page.goto(f"{live_server}/designer/modeler?process=trade_licence")
    page.wait_for_selector("body[data-modeler-ready=true]")
    expect(page.locator(".heat-badge")).to_have_count(0)  # off until asked for
    page.check("[data-testid=heat-toggle]")
    page.wait_for_selector("[data-heatmap][data-painted='5']")
    sign = page.locator('#designer-canvas [data-element-id="sign_permit"]').first
    assert "heat-4" in (sign.get_attribute("class") or "")  # the same figures and classes as the dashboard
    expect(page.locator(".heat-legend li")).to_have_count(5)
    badge = page.locator('.heat-badge[data-step="sign_permit"]')
    assert "n=2" in badge.inner_text() and "Median" in (badge.get_attribute("title") or "")
    shot(page, "designer-heatmap")
    page.check("input[name=heat-metric][value=p90]")
    page.wait_for_selector("[data-heatmap][data-metric=p90]")
    page.uncheck("[data-testid=heat-toggle]")
    page.wait_for_selector("[data-heatmap][data-painted='0']")
    expect(page.locator(".heat-badge")).to_have_count(0)
    assert "heat-" not in (sign.get_attribute("class") or "")  # the diagram is the designer's again
    assert failed == []


def test_an_applicant_answers_the_survey_and_the_index_is_published(
        page: Any, chromium: Any, live_server: str, history: dict[str, str]) -> None:
    sign_in(page, live_server, "loket")
    page.goto(f"{live_server}/files/{history['siup_fast']}")
    page.click(f"a[href='/files/{history['siup_fast']}/handover-sheet']")  # the one handover sheet
    expect(page.locator("[data-testid=handover-sheet]")).to_have_count(1)
    expect(page.locator("[data-testid=survey-qr] svg")).to_have_count(1)
    link = page.locator("[data-testid=survey-link]").get_attribute("href")
    shot(page, "handover-sheet")
    own_phone = chromium.new_context(locale="id-ID", timezone_id="Asia/Jakarta", viewport={"width": 412, "height": 900})
    applicant = own_phone.new_page()  # the applicant's phone: not signed in
    failed = watch_errors(applicant)
    applicant.goto(link)
    expect(applicant.locator("fieldset.skm-element")).to_have_count(9)
    for index, score in enumerate([4, 3, 3, 4, 4, 3, 4, 2, 3]):
        applicant.locator("fieldset.skm-element").nth(index).locator(f"input[value='{score}']").check()
    applicant.fill("textarea[name=suggestion]", "Loket buka lebih pagi.")
    shot(applicant, "survey-form")
    applicant.click("[data-testid=survey-form] button[type=submit]")
    assert "Terima kasih" in applicant.locator("[data-testid=survey-thanks]").inner_text()
    shot(applicant, "survey-thanks")
    applicant.goto(f"{live_server}/skm")
    # (4+3+3+4+4+3+4+2+3)/9 x 25 = 30/9 x 25 = 83.33: band B
    assert applicant.locator("[data-testid=skm-ikm]").inner_text() == "83,33"  # a decimal comma in Indonesian
    assert "B" in applicant.locator("[data-testid=skm-band]").inner_text()
    assert applicant.locator("[data-testid=skm-weakest] li").first.inner_text().startswith("Penanganan pengaduan")
    shot(applicant, "skm")
    own_phone.close()
    assert failed == []


def test_one_click_orders_the_monthly_report_and_its_page_follows_the_worker(
        page: Any, live_app: Flask, live_server: str, history: dict[str, str]) -> None:
    from app.desk.report import run_report

    failed = watch_errors(page)
    sign_in(page, live_server, "manajer")
    page.goto(f"{live_server}/dashboard?{NOVEMBER}")
    page.fill("input[name=month]", "2026-11")
    page.click("[data-testid=order-report]")
    assert page.locator("[data-testid=report-status]").get_attribute("data-status") == "queued"
    shot(page, "report-queued")
    report_id = int(page.url.rsplit("/", 1)[1])
    assert run_report(live_app.extensions["ptsp"], report_id) == "done"  # what the Celery worker does
    page.wait_for_selector("[data-testid=report-status][data-status=done]", timeout=WAIT_MS)  # refreshed by itself
    with page.expect_download() as download:
        page.click("[data-testid=download-pdf]")
    assert download.value.suggested_filename == "laporan-ptsp-2026-11.pdf"
    shot(page, "report-done")
    assert failed == []
