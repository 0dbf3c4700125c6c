"""An administrator giving a new officer a guessable password sees why, beside the field."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import ROOT
from tests.browser.conftest import sign_in


def test_a_repeated_password_is_refused_beside_the_password_field(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users/new")
    page.fill("input[name=username]", "budi")
    page.fill("input[name=full_name]", "Budi Santoso")
    page.fill("input[name=password]", "aaaaaaaaaa")
    page.click("article form button[type=submit]")
    page.wait_for_load_state()
    message = page.locator("#password-error")
    text = message.inner_text()  # the browser's language decides: Indonesian, or English
    assert "pengulangan atau urutan" in text or "repetition or sequence" in text, text
    assert page.locator("input[name=password]").get_attribute("aria-describedby") == "password-error"
    out = Path(ROOT / "test-artifacts")
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / "password-refused.png"), full_page=True)
    page.fill("input[name=password]", "sawah-hijau-kerbau-7")
    page.click("article form button[type=submit]")
    page.wait_for_load_state()
    assert "budi" in page.locator("table").inner_text()
