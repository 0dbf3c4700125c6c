"""The tracking PIN: kept as a keyed hash that a copy of the database alone cannot test a guess against."""
from __future__ import annotations

from werkzeug.security import generate_password_hash

from app.files.models import ApplicationFile
from app.files.pins import PIN_SCHEME, hash_tracking_pin, new_tracking_pin, pin_matches

KEY = "a-secret-key-of-the-office-0123456789"


def _file(stored: str | None) -> ApplicationFile:
    return ApplicationFile(file_number="PBG-2026-000001", tracking_pin_hash=stored)


def test_a_pin_opens_its_file_and_no_other_pin_does() -> None:
    pin = "407215"
    file = _file(hash_tracking_pin(pin, KEY))
    assert pin_matches(file, pin, KEY)
    assert not pin_matches(file, "407216", KEY)
    assert not pin_matches(file, "", KEY)
    assert not pin_matches(file, pin + "0", KEY)


def test_what_is_stored_holds_neither_the_pin_nor_the_same_text_twice() -> None:
    first, second = hash_tracking_pin("123456", KEY), hash_tracking_pin("123456", KEY)
    assert first.startswith(PIN_SCHEME + "$") and "123456" not in first
    assert first != second  # salted per file: two files with one PIN do not look alike
    assert len(first) <= 300  # the column's width


def test_without_the_secret_key_the_stored_hash_tests_no_guess() -> None:
    file = _file(hash_tracking_pin("555000", KEY))
    assert not pin_matches(file, "555000", "another-secret-key-0123456789")


def test_a_pin_stored_before_keyed_hashes_still_opens_its_file() -> None:
    file = _file(generate_password_hash("246810", method="scrypt"))
    assert pin_matches(file, "246810", KEY)
    assert not pin_matches(file, "246811", KEY)


def test_an_unknown_file_or_a_file_without_a_pin_is_refused() -> None:
    assert not pin_matches(None, "123456", KEY)
    assert not pin_matches(_file(None), "123456", KEY)
    assert not pin_matches(_file(""), "", KEY)


def test_new_pins_are_six_digits_and_vary() -> None:
    pins = {new_tracking_pin() for _ in range(50)}
    assert all(len(p) == 6 and p.isdigit() for p in pins) and len(pins) > 40
