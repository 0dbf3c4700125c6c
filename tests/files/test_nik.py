"""NIK checks beyond the pattern: province, encoded date of birth and sex."""
from __future__ import annotations

from datetime import date

import pytest

from app.files.nik import PROVINCE_CODES, mask_nik, nik_birth_date, validate_nik

TODAY = date(2026, 1, 5)


def test_a_womans_nik_matches_her_date_of_birth_and_sex() -> None:
    # Sragen (33 14 01), born 5 July 1985, female: day 05 + 40 = 45.
    assert validate_nik("3314014507850002", "1985-07-05", "P", TODAY) == []
    assert nik_birth_date("3314014507850002", TODAY) == (date(1985, 7, 5), "P")


def test_a_mans_nik_matches_his_date_of_birth_and_sex() -> None:
    assert validate_nik("3314010203800001", date(1980, 3, 2), "L", TODAY) == []


def test_a_child_born_this_century_reads_as_this_century() -> None:
    assert nik_birth_date("3314011712150003", TODAY) == (date(2015, 12, 17), "L")
    assert nik_birth_date("3314011712300003", TODAY) == (date(1930, 12, 17), "L")


@pytest.mark.parametrize("nik", ["331401450785000", "33140145078500021", "33140145O7850002", ""])
def test_only_sixteen_digits_are_a_nik(nik: str) -> None:
    assert validate_nik(nik, "1985-07-05", "P", TODAY) == ["NIK harus 16 digit angka."]


@pytest.mark.parametrize("province", ["00", "10", "20", "22", "30", "37", "50", "54", "60", "66", "77", "80", "83",
                                      "90", "97", "99"])
def test_province_codes_that_do_not_exist_are_refused(province: str) -> None:
    problems = validate_nik(province + "14014507850002", "1985-07-05", "P", TODAY)
    assert problems == ["Dua digit pertama NIK bukan kode provinsi yang ada."]


def test_every_province_including_the_new_papua_provinces_is_known() -> None:
    # 38 provinces; the old codes of Papua (94) and Papua Barat (91) are reused by new ones, so no more codes.
    assert len(PROVINCE_CODES) == 38
    assert {"11", "21", "31", "36", "65", "76", "82", "91", "94", "95", "96"} <= PROVINCE_CODES


@pytest.mark.parametrize("digits", ["320785", "723285", "001385", "450085", "451385", "310485", "690285", "300285"])
def test_impossible_dates_of_birth_are_refused(digits: str) -> None:
    problems = validate_nik(f"331401{digits}0002", None, None, TODAY)
    assert problems == ["Digit 7-12 NIK bukan tanggal lahir yang mungkin."]


def test_a_leap_day_is_a_possible_date_of_birth() -> None:
    assert validate_nik("3314016902840002", "1984-02-29", "P", TODAY) == []


def test_date_of_birth_must_match_the_nik() -> None:
    [problem] = validate_nik("3314014507850002", "1985-07-06", "P", TODAY)
    assert "05-07-85" in problem


def test_sex_must_match_the_nik() -> None:
    assert validate_nik("3314014507850002", "1985-07-05", "L", TODAY) == [
        "NIK ini milik perempuan (tanggal lahir ditambah 40), tetapi jenis kelamin diisi laki-laki."]
    assert validate_nik("3314010507850002", "1985-07-05", "P", TODAY) == [
        "NIK ini milik laki-laki, tetapi jenis kelamin diisi perempuan."]


def test_regency_district_and_serial_may_not_be_zero() -> None:
    assert len(validate_nik("3300004507850000", "1985-07-05", "P", TODAY)) == 2


def test_a_missing_or_malformed_date_of_birth_checks_the_nik_alone() -> None:
    assert validate_nik("3314014507850002", None, None, TODAY) == []
    assert validate_nik("3314014507850002", "5 Juli 1985", "X", TODAY) == []


def test_printed_niks_show_the_last_four_digits_only() -> None:
    assert mask_nik("3314014507850002") == "************0002"
    assert mask_nik(None) == ""
