"""Forms in a real browser (issue 9 §1, §4): the PBG draft step is completed with its
"Masa berlaku" chosen; a refused submission shows Indonesian messages beside each field,
marks each field invalid, and moves focus to an error summary linking to them."""
from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app.engine.models import HumanTask, InstanceEvent
from app.files.models import ApplicationFile
from app.files.services import open_file
from tests import samples
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_officer_flow import open_task_from_worklist
from tests.walking import do_step


def pbg_at_draft(app: Flask) -> str:
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        number = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket").file_number
    for username, data in (("loket", samples.REGISTRATION), ("verifikator2", samples.CHECK_COMPLETE),
                           ("teknis", samples.SURVEY), ("kasir", samples.PAYMENT)):
        do_step(app.extensions["ptsp"], number, username, data)
    return str(number)


def invalid_fields(page: Any) -> dict[str, str]:
    """name -> the text of the message its aria-describedby points to, for every invalid input."""
    return page.evaluate("""() => {
        const found = {};
        for (const el of document.querySelectorAll('form [aria-invalid="true"]')) {
            const ids = (el.getAttribute('aria-describedby') || '').split(' ');
            const message = ids.map(id => document.getElementById(id)).find(m => m && m.classList.contains('field-error'));
            found[el.name || el.id] = message ? message.textContent.trim() : null;
        }
        return found;
    }""")


def test_the_pbg_draft_step_is_completed_with_masa_berlaku_chosen(page: Any, live_server: str,
                                                                   live_app: Flask) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    number = pbg_at_draft(live_app)
    sign_in(page, live_server, "verifikator")
    open_task_from_worklist(page, live_server, number, "Penyusunan draf izin")
    page.click("form[action$='/claim'] button")
    page.wait_for_load_state()

    masa = page.locator('fieldset#field-validity')
    assert masa.locator("legend").inner_text().startswith("Masa berlaku")
    expect(masa.get_by_label("Selama bangunan berdiri")).to_have_count(1)
    expect(masa.get_by_label("Jumlah tahun", exact=True)).to_have_count(1)

    # Prefilled from the survey: the function it found and the area it measured.
    assert page.locator('select[name="permitted_function"]').input_value() == "hunian"
    assert page.locator('[name="permitted_floor_area_m2"]').input_value() == "120"

    # A first try with mistakes: each is told beside its field, in Indonesian.
    page.select_option('select[name="permitted_function"]', "")
    page.fill('[name="permitted_floor_area_m2"]', "0")
    page.fill('[name="validity/oneOf/1"]', "150")  # typing the years chooses "Jumlah tahun"
    assert masa.get_by_label("Jumlah tahun", exact=True).is_checked()
    page.fill('[name="permit_conditions"]', "GS")
    page.click("form.task-form button[type=submit]")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary = page.locator("#error-summary").inner_text()
    assert "Fungsi bangunan yang disetujui" in summary and "Masa berlaku" in summary
    marked = invalid_fields(page)
    assert marked["permitted_function"] == "wajib diisi"
    assert marked["permitted_floor_area_m2"] == "harus lebih besar dari 0"
    assert marked["validity"] == "paling besar 100" and marked["validity/oneOf/1"] == "paling besar 100"
    assert marked["permit_conditions"] == "baris 1: paling sedikit 3 karakter"
    page.screenshot(path=str(ARTIFACTS / "forms-draft-errors.png"), full_page=True)
    page.click('#error-summary a[href="#field-permitted_floor_area_m2"]')
    assert page.evaluate("document.activeElement.name") == "permitted_floor_area_m2"

    # Corrected, with the choice kept as typed: completes.
    page.select_option('select[name="permitted_function"]', "hunian")
    page.fill('[name="permitted_floor_area_m2"]', "120")
    page.fill('[name="permit_conditions"]', "Garis sempadan bangunan 4 meter")
    assert page.locator('[name="validity/oneOf/1"]').input_value() == "150"
    page.fill('[name="validity/oneOf/1"]', "")
    masa.get_by_label("Selama bangunan berdiri").check()
    page.screenshot(path=str(ARTIFACTS / "forms-draft-filled.png"), full_page=True)
    page.click("form.task-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/worklist"), page.locator("main").inner_text()

    c = live_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        done = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == file.instance_id,
                                                          InstanceEvent.kind == "task_completed")
                               .order_by(InstanceEvent.id.desc())).first()
        assert done is not None and done.detail["data"]["validity"] == "selama_bangunan_berdiri"
        assert done.detail["data"]["permit_conditions"] == ["Garis sempadan bangunan 4 meter"]
        assert session.scalars(select(HumanTask.title).where(HumanTask.instance_id == file.instance_id,
                                                             HumanTask.status == "open")).one() == "Penandatanganan izin"


def test_a_failed_intake_marks_every_bad_field_and_focuses_the_summary(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "loket")
    page.goto(f"{live_server}/intake?permit_type=building_permit")
    page.fill('[name="applicant/nik"]', "123")
    page.fill('[name="applicant_address/postcode"]', "12")
    page.fill('[name="applicant_email"]', "bukan-surel")
    page.fill('[name="declared_floor_area_m2"]', "-5")
    page.click("form.intake-form button[type=submit]")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    marked = invalid_fields(page)
    assert marked["applicant/nik"] == "harus 16 digit angka"
    assert marked["applicant_address/postcode"] == "harus 5 digit angka"
    assert marked["applicant_email"] == "bukan alamat surel yang sah"
    assert marked["applicant/full_name"] == "wajib diisi"
    links = page.locator("#error-summary a").count()
    messages = page.locator("form.intake-form .field-error").count()
    assert links == messages and messages >= 10
    assert all(message for message in marked.values())  # every invalid field points to its message
    page.screenshot(path=str(ARTIFACTS / "forms-intake-errors.png"), full_page=True)


def test_document_rows_are_added_and_removed_in_the_browser(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "loket")
    page.goto(f"{live_server}/intake?permit_type=building_permit")
    rows = page.locator("fieldset#field-attachments > .row-item")
    before = rows.count()
    assert before >= 2
    page.click("fieldset#field-attachments > button.row-add")
    expect(rows).to_have_count(before + 1)
    added = rows.nth(before)
    expect(added.locator(f'select[name="attachments/{before}/document_type"]')).to_have_count(1)
    expect(added.locator(f'input[type=file][name="attachments/{before}"]')).to_have_count(1)
    assert page.evaluate("document.activeElement.name") == f"attachments/{before}/document_type"
    added.locator("button.row-remove").click()
    expect(rows).to_have_count(before)
    page.screenshot(path=str(ARTIFACTS / "forms-intake-rows.png"), full_page=True)
