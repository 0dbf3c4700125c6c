"""Sign-in, throttling, CSRF, roles and user administration in the browser."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.clock import FixedClock
from tests.web import DEMO_PASSWORD, csrf_token, login, post_form, signed_in


def test_sign_in_takes_an_officer_home_and_sign_out_ends_the_session(web_app: Flask) -> None:
    client = web_app.test_client()
    assert client.get("/").headers["Location"].endswith("/login")
    response = login(client, "verifikator")
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 403
    post_form(client, "/logout", {}, token_from="/admin/users")
    assert client.get("/admin/users").status_code == 302


def test_wrong_password_is_refused_with_a_message(web_app: Flask) -> None:
    client = web_app.test_client()
    response = login(client, "verifikator", "salah-sekali-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302  # still signed out


def test_an_empty_or_overlong_username_reads_as_a_wrong_one_and_is_not_counted(web_app: Flask) -> None:
    client = web_app.test_client()
    for name in ("", "   ", "k" * 101):
        for _ in range(3):
            response = login(client, name, DEMO_PASSWORD)
            assert response.status_code == 401
            assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert login(client, "kasir", DEMO_PASSWORD).status_code == 302  # nine refusals, none counted


def test_an_unknown_language_is_a_bad_request(web_app: Flask) -> None:
    client = web_app.test_client()
    assert post_form(client, "/language", {"lang": "fr", "next": "/login"}, token_from="/login").status_code == 400


def test_repeated_failures_are_throttled_even_with_the_right_password(web_app: Flask, clock: FixedClock) -> None:
    client = web_app.test_client()
    for _ in range(5):
        assert login(client, "kasir", "tebakan-salah-99").status_code == 401
    blocked = login(client, "kasir", DEMO_PASSWORD)
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan" in blocked.get_data(as_text=True)
    clock.advance(minutes=16)
    assert login(client, "kasir", DEMO_PASSWORD).status_code == 302


def test_the_sign_in_limit_holds_across_web_processes_on_redis(web_app: Flask) -> None:
    from app.ratelimit import RateLimits
    from tests.conftest import service_url

    url = service_url("TEST_BROKER_URL")
    parts = web_app.extensions["ptsp"]
    RateLimits(url).storage.reset()
    try:
        parts.rate_limits = RateLimits(url)
        for _ in range(5):
            assert login(web_app.test_client(), "kasir", "tebakan-salah-99").status_code == 401
        parts.rate_limits = RateLimits(url)  # another process: its own connections, nothing in memory
        assert login(web_app.test_client(), "kasir", DEMO_PASSWORD).status_code == 429
    finally:
        RateLimits(url).storage.reset()


def test_forms_without_a_csrf_token_are_refused(web_app: Flask) -> None:
    client = signed_in(web_app, "admin")
    response = client.post("/admin/users/new", data={"username": "penyusup", "full_name": "X",
                                                     "password": "panjang-sekali-1", "role": "admin"})
    assert response.status_code == 400
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.scalars(select(User).where(User.username == "penyusup")).first() is None


def test_sign_in_never_redirects_to_another_site(web_app: Flask) -> None:
    client = web_app.test_client()
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x", data={
        "username": "loket", "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_administrator_creates_an_officer_with_lanes_who_can_then_sign_in(web_app: Flask) -> None:
    admin = signed_in(web_app, "admin")
    response = post_form(admin, "/admin/users/new", {
        "username": "budi", "full_name": "Budi Santoso", "password": "kata-sandi-budi",
        "role": "officer", "lanes": ["verifier", "cashier"]})
    assert response.status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Budi Santoso" in page and "Verifikator Berkas" in page and "Kasir" in page
    assert signed_in(web_app, "budi", "kata-sandi-budi").get("/").status_code in (200, 302)


def test_administrator_sees_clear_errors_and_nothing_is_created(web_app: Flask) -> None:
    admin = signed_in(web_app, "admin")
    response = post_form(admin, "/admin/users/new", {
        "username": "pendek", "full_name": "Pendek", "password": "pendek", "role": "officer",
        "lanes": ["front_office"]})
    assert response.status_code == 400
    assert "Kata sandi minimal 10 karakter." in response.get_data(as_text=True)  # beside the field, in Indonesian
    unknown_lane = post_form(admin, "/admin/users/new", {
        "username": "aneh", "full_name": "Aneh", "password": "cukup-panjang-1", "role": "officer",
        "lanes": ["gudang"]})
    assert unknown_lane.status_code == 400
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        names = set(session.scalars(select(User.username)))
    assert "pendek" not in names and "aneh" not in names


def test_language_switches_to_english_and_back(web_app: Flask) -> None:
    client = web_app.test_client()
    assert "Kata sandi" in client.get("/login").get_data(as_text=True)
    post_form(client, "/language", {"lang": "en", "next": "/login"}, token_from="/login")
    page = client.get("/login").get_data(as_text=True)
    assert "Password" in page and 'lang="en"' in page
    post_form(client, "/language", {"lang": "id", "next": "/login"}, token_from="/login")
    assert "Kata sandi" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(("password", "message"), [
    ("aaaaaaaaaa", "pengulangan atau urutan"),
    ("1234567890", "terlalu umum"),
    ("password123", "terlalu umum"),
    ("qwertyuiop", "terlalu umum"),  # a top-100 password before it is a keyboard row
    ("abcabcabcabc", "pengulangan atau urutan"),
    ("pendek-1", "minimal 10 karakter"),
])
def test_common_repeated_and_short_passwords_are_refused_beside_the_field(web_app: Flask, password: str,
                                                                         message: str) -> None:
    admin = signed_in(web_app, "admin")
    response = post_form(admin, "/admin/users/new", {"username": "budi", "full_name": "Budi Santoso",
                                                     "password": password, "role": "officer"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<small id="password-error" class="field-error">[^<]*' + message, page), page
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.scalars(select(User).where(User.username == "budi")).first() is None


def test_a_password_made_of_the_users_name_is_refused_and_the_message_has_english(web_app: Flask) -> None:
    admin = signed_in(web_app, "admin")
    admin.post("/language", data={"lang": "en", "csrf_token": csrf_token(admin, "/admin/users")})
    response = post_form(admin, "/admin/users/new", {"username": "budisantoso", "full_name": "Budi Santoso",
                                                     "password": "budisantoso1", "role": "officer"})
    assert response.status_code == 400
    assert "must not contain the username or your name" in response.get_data(as_text=True)


def test_the_cli_refuses_a_repeated_password(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.auth.services import PasswordRefused, set_password

    user = User(username="budi", full_name="Budi", role="officer", password_hash="")
    with pytest.raises(PasswordRefused, match="repetition or sequence"):
        set_password(user, "zzzzzzzzzzzz")
    set_password(user, "sawah-hijau-kerbau-7")
    assert user.password_hash.startswith("scrypt:")
