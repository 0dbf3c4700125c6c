"""In a real browser: the verifier checking documents shows the NIK by the logged action, and the
administrator reads who saw the file and the evidence page (checks, signed anchors)."""
from __future__ import annotations

from typing import Any

from tests import samples
from tests.browser.conftest import ARTIFACTS, WAIT_MS, sign_in
from tests.browser.test_files import register_in_browser

NIK = samples.REGISTRATION["applicant"]["nik"]


def _as(chromium: Any, base: str, username: str) -> Any:
    context = chromium.new_context(locale="id-ID", timezone_id="Asia/Jakarta", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    sign_in(page, base, username)
    return page


def test_show_nik_and_the_administrators_pages(page: Any, chromium: Any, live_server: str, live_app: Any) -> None:
    number = register_in_browser(page, live_server)

    verifier = _as(chromium, live_server, "verifikator")
    verifier.goto(f"{live_server}/files/{number}")
    assert verifier.locator('[data-testid="nik"]').inner_text() == "*" * 12 + NIK[-4:]
    verifier.click("text=Tampilkan NIK")
    verifier.wait_for_load_state()
    assert verifier.locator('[data-testid="nik"]').inner_text() == NIK
    ARTIFACTS.mkdir(exist_ok=True)
    verifier.screenshot(path=str(ARTIFACTS / "file-page-nik-shown.png"), full_page=True)
    verifier.context.close()

    assert live_app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert live_app.test_cli_runner().invoke(args=["audit", "anchor"]).exit_code == 0
    admin = _as(chromium, live_server, "admin")
    admin.click("header summary:has-text('Administrasi')")  # the administrator's pages are under one menu
    admin.click("text=Akses data pribadi")
    admin.fill('input[name="file"]', number)
    admin.click("form.filters button[type=submit]")
    admin.wait_for_load_state()
    whats = admin.locator('[data-testid="accesses"] tbody tr').evaluate_all("rows => rows.map(r => r.dataset.what)")
    assert "nik" in whats and "file_page" in whats
    assert "verifikator" in admin.locator('[data-testid="accesses"]').inner_text()
    admin.screenshot(path=str(ARTIFACTS / "admin-personal-data.png"), full_page=True)
    admin.click("header summary:has-text('Administrasi')")
    admin.click("text=Bukti dan tanda tangan")
    admin.wait_for_load_state()
    assert admin.locator('[data-testid="checks"] tbody tr').first.get_attribute("data-ok") == "yes"
    assert "sah" in admin.locator('[data-testid="anchors"] tbody tr').first.inner_text()
    admin.screenshot(path=str(ARTIFACTS / "admin-evidence.png"), full_page=True)
    admin.context.close()
