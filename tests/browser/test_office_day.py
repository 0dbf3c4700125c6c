"""The office's day in a real browser (issue 9 §3, §5, §7): the receipt prints on one A4 page
with the promised date and the law's rule; each task page shows what its step needs; /track
shows the same promised date and what the applicant must bring. Screenshots in test-artifacts/."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import ARTIFACTS, WAIT_MS, sign_in
from tests.browser.test_files import fill_registration
from tests.walking import do_step, open_task


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_receipt_task_pages_and_track_in_the_browser(browser_context: Any, live_app: Flask, live_server: str) -> None:
    c = live_app.extensions["ptsp"]
    ARTIFACTS.mkdir(exist_ok=True)
    contexts: list[Any] = []

    def person(username: str | None) -> Any:
        """A page in a browser of its own (each officer signs in on their own computer)."""
        context = browser_context.browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta",
                                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        if username:
            sign_in(page, live_server, username)
        return page

    try:
        walk_the_day(c, person, live_server)
    finally:
        for context in contexts:
            context.close()


def walk_the_day(c: Any, person: Any, live_server: str) -> None:
    desk = person("loket")
    desk.goto(f"{live_server}/intake?permit_type=building_permit")
    fill_registration(desk)
    desk.click("form.intake-form button[type=submit]")
    desk.wait_for_load_state()
    number = desk.locator('[data-testid="file-number"]').inner_text()
    pin = desk.locator('[data-testid="pin"]').inner_text()
    promised = desk.locator('[data-testid="promised-date"]').inner_text()
    assert "hari kerja" in promised
    assert "sejak berkas dinyatakan lengkap dan benar" in desk.locator('[data-testid="promise-rule"]').inner_text()
    desk.emulate_media(media="print")
    desk.screenshot(path=str(ARTIFACTS / "office-day-receipt-print.png"), full_page=True)
    pdf = desk.pdf(format="A4", print_background=True)
    (ARTIFACTS / "office-day-receipt.pdf").write_bytes(pdf)
    assert pdf_pages(pdf) == 1  # the signatures are not left alone on a second page
    desk.emulate_media(media="screen")

    # The document check: the applicant's documents against the requirement list.
    checker = person("verifikator")
    checker.goto(f"{live_server}/tasks/{open_task(c, number).id}")
    panel = checker.locator('[data-testid="step-context"]')
    assert panel.get_attribute("data-context") == "documents"
    expect(checker.locator('tr.missing[data-document-type="gambar_teknis"]')).to_have_count(1)  # not handed in
    assert checker.locator('tr.present[data-document-type="ktp"] a').inner_text() == "ktp-siti.png"
    checker.screenshot(path=str(ARTIFACTS / "office-day-task-document-check.png"), full_page=True)

    do_step(c, number, "verifikator", samples.CHECK_INCOMPLETE)
    desk.goto(f"{live_server}/tasks/{open_task(c, number).id}")
    expect(desk.locator('[data-testid="missing-documents"] li')).to_have_count(2)
    desk.screenshot(path=str(ARTIFACTS / "office-day-task-resubmission.png"), full_page=True)

    public = person(None)
    public.set_viewport_size({"width": 390, "height": 844})
    public.goto(f"{live_server}/track")
    public.fill('input[name="file_number"]', number)
    public.fill('input[name="pin"]', pin)
    public.click("main button[type=submit]")
    public.wait_for_load_state()
    expect(public.locator('[data-testid="track-action"]')).to_be_visible()
    expect(public.locator('[data-testid="track-missing"] li')).to_have_count(2)
    public.screenshot(path=str(ARTIFACTS / "office-day-track-waiting.png"), full_page=True)

    do_step(c, number, "loket", samples.RESUBMISSION)
    do_step(c, number, "verifikator", samples.CHECK_COMPLETE)
    do_step(c, number, "teknis", samples.SURVEY)
    cashier = person("kasir")
    cashier.goto(f"{live_server}/tasks/{open_task(c, number).id}")
    assert "Rp" in cashier.locator('[data-testid="fee-due"]').inner_text()
    expect(cashier.locator('[data-testid="skrd-link"]')).to_be_visible()
    cashier.screenshot(path=str(ARTIFACTS / "office-day-task-payment.png"), full_page=True)

    do_step(c, number, "kasir", samples.PAYMENT)
    do_step(c, number, "verifikator", samples.DRAFT)
    head = person("kepala")
    head.goto(f"{live_server}/tasks/{open_task(c, number).id}")
    head.screenshot(path=str(ARTIFACTS / "office-day-task-signature.png"), full_page=True)
    expect(head.locator('[data-testid="permit-preview-link"]')).to_be_visible()
    head.goto(f"{live_server}/files/{number}/permit-preview")
    assert "PRATINJAU" in head.locator('[data-testid="permit-preview"]').inner_text()
    head.screenshot(path=str(ARTIFACTS / "office-day-permit-preview.png"), full_page=True)

    do_step(c, number, "kepala", samples.SIGN_APPROVE)
    desk.goto(f"{live_server}/tasks/{open_task(c, number).id}")
    expect(desk.locator('[data-testid="handover-links"] a')).to_have_count(2)
    desk.screenshot(path=str(ARTIFACTS / "office-day-task-handover.png"), full_page=True)

    # The same promised date on /track and the file page, now that the clock runs.
    public.goto(f"{live_server}/track")
    public.fill('input[name="file_number"]', number)
    public.fill('input[name="pin"]', pin)
    public.click("main button[type=submit]")
    public.wait_for_load_state()
    tracked = public.locator('[data-testid="promised-date"]').inner_text()
    public.screenshot(path=str(ARTIFACTS / "office-day-track-running.png"), full_page=True)
    desk.goto(f"{live_server}/files/{number}")
    assert desk.locator('[data-testid="promised-date"]').inner_text() == tracked
    desk.screenshot(path=str(ARTIFACTS / "office-day-file-page.png"), full_page=True)


def test_the_username_pattern_is_one_chromium_applies(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users/new")
    field = page.locator('input[name="username"]')
    field.fill("Joko Baru")
    assert field.evaluate("el => el.validity.patternMismatch") is True  # an invalid pattern is skipped: False
    field.fill("joko.baru")
    assert field.evaluate("el => el.validity.valid") is True
