"""The browser can sign in and switch the interface to English."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in


def test_an_administrator_signs_in_sees_users_and_switches_to_english(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin")
    assert page.locator("h1").inner_text() == "Pengguna"
    assert page.locator("table").inner_text().count("officer") == 0  # roles are shown in Indonesian
    page.click("button[name=lang][value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Users"
    assert "Sign out" in page.locator("header").inner_text()
