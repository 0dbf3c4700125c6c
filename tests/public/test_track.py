"""Public tracking: number and PIN show the steps and the promised date, nothing
personal; wrong answers all read alike, and guessing is throttled."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.clock import FixedClock
from app.container import Container
from tests import samples
from tests.files.intake_helpers import register
from tests.walking import do_step
from tests.web import post_form, signed_in

_TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


def track(client: FlaskClient, number: str, pin: str) -> TestResponse:
    return post_form(client, "/track", {"file_number": number, "pin": pin})


def page_of(response: TestResponse) -> str:
    # The CSRF token is signed with the current second; everything else must be the same.
    return _TOKEN.sub('name="csrf_token" value=""', response.get_data(as_text=True))


def headers_of(response: TestResponse) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("Date", "Set-Cookie", "X-Request-ID")}  # per request


def test_number_and_pin_show_steps_and_promised_date_and_nothing_personal(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    clock.advance(hours=3)
    do_step(deployed, number, "verifikator", samples.CHECK_COMPLETE)

    public = web_app.test_client()
    form = public.get("/track")
    assert form.status_code == 200 and 'name="csrf_token"' in form.get_data(as_text=True)
    response = track(public, number.lower(), pin)  # typed in lower case on a phone
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert number in page and "Persetujuan Bangunan Gedung (PBG)" in page
    assert "Registrasi permohonan" in page and "Pemeriksaan kelengkapan berkas" in page
    assert "Pemeriksaan lapangan (BAP)" in page  # the current step
    assert "20 Januari 2026" in page and "5 Januari 2026" in page
    for personal in ("Siti Rahmawati", "3314014507850002", "0002", "Sragen Kulon", "081234567890",
                     "ktp-siti", "Sri Wahyuni", "Bambang Sutrisno", "loket", "verifikator", pin):
        assert personal not in page, personal
    assert "no-store" in response.headers["Cache-Control"]


def test_wrong_pin_and_unknown_number_read_exactly_alike(web_app: Flask) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    wrong_pin = "000000" if pin != "000000" else "111111"
    public = web_app.test_client()
    wrong = track(public, number, wrong_pin)
    unknown = track(public, "PBG-2026-999999", pin)
    assert wrong.status_code == unknown.status_code == 200
    assert "Nomor berkas atau PIN salah." in wrong.get_data(as_text=True)
    assert page_of(wrong) == page_of(unknown)
    assert headers_of(wrong) == headers_of(unknown)


def test_the_eleventh_guess_is_refused_until_the_window_passes(web_app: Flask, clock: FixedClock) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    guesser = web_app.test_client()
    for guess in range(10):
        assert track(guesser, number, f"{guess:06d}" if f"{guess:06d}" != pin else "999999").status_code == 200
    refused = track(guesser, number, pin)  # even the right PIN
    assert refused.status_code == 429
    assert "Terlalu banyak percobaan" in refused.get_data(as_text=True)
    assert "Registrasi permohonan" not in refused.get_data(as_text=True)
    clock.advance(minutes=14)
    assert track(guesser, number, pin).status_code == 429
    clock.advance(minutes=2)
    assert "Registrasi permohonan" in track(guesser, number, pin).get_data(as_text=True)


def test_guesses_are_counted_per_number_across_addresses(web_app: Flask) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    for guess in range(10):
        client = web_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{guess + 1}"
        assert track(client, number, "123456" if pin != "123456" else "654321").status_code == 200
    fresh = web_app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert track(fresh, number, pin).status_code == 429


def test_guesses_are_counted_per_address_across_numbers(web_app: Flask) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    guesser = web_app.test_client()
    for index in range(10):
        assert track(guesser, f"PBG-2026-{index + 100:06d}", pin).status_code == 200
    assert track(guesser, number, pin).status_code == 429
    other = web_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert "Registrasi permohonan" in track(other, number, pin).get_data(as_text=True)


def test_tracking_guesses_do_not_lock_officers_out(web_app: Flask) -> None:
    guesser = web_app.test_client()
    for index in range(12):
        track(guesser, f"PBG-2026-{index:06d}", "123456")
    signed_in(web_app, "loket")  # same address (127.0.0.1): sign-in still works


def test_tracking_form_needs_its_csrf_token(web_app: Flask) -> None:
    number, pin, _ = register(signed_in(web_app, "loket"))
    response = web_app.test_client().post("/track", data={"file_number": number, "pin": pin})
    assert response.status_code == 400
    assert "Registrasi permohonan" not in response.get_data(as_text=True)


def test_tracking_page_is_open_to_everyone_in_both_languages(web_app: Flask) -> None:
    client = web_app.test_client()
    assert "Lacak berkas permohonan" in client.get("/track").get_data(as_text=True)
    assert "Track an application" in client.get("/track?lang=en").get_data(as_text=True)
    assert 'href="/track"' in client.get("/login").get_data(as_text=True)


def test_an_empty_or_overlong_pin_reads_as_a_wrong_one(web_app: Flask) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    public = web_app.test_client()
    for pin in ("", "1" * 21):
        response = track(public, number, pin)
        assert response.status_code == 200 and "Nomor berkas atau PIN salah." in response.get_data(as_text=True)
        assert "Registrasi permohonan" not in response.get_data(as_text=True)
