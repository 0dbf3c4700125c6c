"""A manager finds a file by the applicant's name from the navigation bar, narrows the list with
its filters, opens the file, and reads every lane's worklist without claim buttons."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from app.files.services import open_file
from tests.browser.conftest import ARTIFACTS, sign_in


def test_a_manager_finds_a_file_and_reads_the_worklist(page: Any, live_app: Any, live_server: str) -> None:
    c = live_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        numbers = {name: open_file(session, c.runtime, c.settings, process, name, "test").file_number
                   for name, process in [("Siti Rahmawati", "building_permit"), ("Siti Aminah", "nuisance_permit"),
                                         ("Joko Susilo", "building_permit")]}

    sign_in(page, live_server, "manajer")
    page.get_by_role("link", name="Daftar berkas").click()
    page.fill("#file-q", "siti")
    page.get_by_role("button", name="Cari", exact=True).click()
    rows = page.locator("table.files-list tbody tr")
    expect(rows).to_have_count(2)
    assert "Ditemukan menurut nama pemohon." in page.inner_text("#file-matched-by")

    page.select_option('select[name="permit_type"]', "nuisance_permit")
    page.get_by_role("button", name="Terapkan").click()
    expect(rows).to_have_count(1)
    assert numbers["Siti Aminah"] in rows.first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "files-search-manager.png"), full_page=True)

    page.fill("#file-q", "s")
    page.get_by_role("button", name="Cari", exact=True).click()
    assert "paling sedikit 2 huruf" in page.inner_text("#file-search-error")
    assert page.get_attribute("#file-q", "aria-invalid") == "true"

    page.goto(f"{live_server}/files?q={numbers['Joko Susilo'].lower()}")
    page.get_by_role("link", name=numbers["Joko Susilo"]).click()
    assert page.url.endswith(f"/files/{numbers['Joko Susilo']}")

    page.get_by_role("link", name="Daftar tugas").click()
    expect(page.locator("#worklist-read-only")).to_be_visible()
    expect(page.locator("table.worklist tbody tr")).to_have_count(3)
    expect(page.locator("table.worklist button")).to_have_count(0)  # nothing to claim or release
    page.screenshot(path=str(ARTIFACTS / "worklist-manager-read-only.png"), full_page=True)
