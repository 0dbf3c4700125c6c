"""The front desk registers an application in a real browser, prints the receipt, and
an officer sees the file's diagram with its done and current steps marked."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.files.intake_helpers import PDF, PNG, registration


def fill_registration(page: Any) -> None:
    data = registration()
    for group in ("applicant", "applicant_address", "building_location"):
        for key, value in data[group].items():
            if key != "sex":
                page.fill(f'[name="{group}/{key}"]', str(value))
    page.check('input[name="applicant/sex"][value="P"]')
    for key in ("applicant_phone", "applicant_email", "applicant_npwp", "declared_floors", "declared_floor_area_m2"):
        page.fill(f'[name="{key}"]', str(data[key]))
    page.select_option('select[name="declared_building_function"]', "hunian")
    page.set_input_files('input[name="attachments/0"]', files=[
        {"name": "ktp-siti.png", "mimeType": "image/png", "buffer": PNG}])
    page.set_input_files('input[name="attachments/1"]', files=[
        {"name": "shm-1234.pdf", "mimeType": "application/pdf", "buffer": PDF}])


def register_in_browser(page: Any, base: str) -> str:
    """The front office registers the sample building permit application; its file number."""
    sign_in(page, base, "loket")
    page.goto(f"{base}/intake")
    page.select_option('select[name="permit_type"]', "building_permit")
    page.click("form.permit-choice button[type=submit]")
    page.wait_for_load_state()
    fill_registration(page)
    page.click("form.intake-form button[type=submit]")
    page.wait_for_load_state()
    number: str = page.locator('[data-testid="file-number"]').inner_text()
    return number


def test_intake_receipt_and_file_diagram_in_the_browser(page: Any, live_server: str) -> None:
    problems: list[str] = []
    # Failed loads are reported by URL below; the browser's own favicon request is not ours.
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)

    sign_in(page, live_server, "loket")
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet at the front desk
    page.goto(f"{live_server}/intake")
    page.select_option('select[name="permit_type"]', "building_permit")
    page.click("form.permit-choice button[type=submit]")
    page.wait_for_load_state()
    fill_registration(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "intake-tablet.png"), full_page=True)
    page.click("form.intake-form button[type=submit]")
    page.wait_for_load_state()

    assert "/receipt" in page.url
    number = page.locator('[data-testid="file-number"]').inner_text()
    assert number.startswith("PBG-")
    assert len(page.locator('[data-testid="pin"]').inner_text()) == 6
    assert "hari kerja" in page.locator('[data-testid="promised-date"]').inner_text()
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "receipt-print.png"), full_page=True)
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator(".receipt-actions").is_visible()
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/files/{number}")
    page.wait_for_selector(".djs-element.ptsp-current")
    done = page.locator('.djs-element[data-element-id="register_application"]')
    current = page.locator('.djs-element[data-element-id="check_documents"]')
    assert "ptsp-done" in (done.get_attribute("class") or "")
    assert "ptsp-current" in (current.get_attribute("class") or "")
    assert problems == []  # no script errors, nothing refused by the content security policy
