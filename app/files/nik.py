"""The NIK (Nomor Induk Kependudukan): checks beyond "16 digits".

A NIK reads ``PP KK CC DDMMYY SSSS``: province, regency/city and district of
first registration, the date of birth (the day plus 40 for women) and a serial
number. A NIK never changes when its holder moves or a province is split, so
every province code ever issued stays valid, including the old and new codes of
the Papua provinces.
"""
from __future__ import annotations

from datetime import date

from app.i18n import gettext

# Province codes (Kemendagri) that appear in NIKs.
PROVINCE_CODES: frozenset[str] = frozenset({
    "11", "12", "13", "14", "15", "16", "17", "18", "19",  # Sumatra and Bangka Belitung
    "21",  # Kepulauan Riau
    "31", "32", "33", "34", "35", "36",  # Java
    "51", "52", "53",  # Bali and Nusa Tenggara
    "61", "62", "63", "64", "65",  # Kalimantan
    "71", "72", "73", "74", "75", "76",  # Sulawesi
    "81", "82",  # Maluku
    # Papua: 91 Papua Barat (BPS code) / Papua (since 2022), 92 Papua Barat, 93 Papua Selatan,
    # 94 Papua (until 2022) / Papua Tengah, 95 Papua Pegunungan, 96 Papua Barat Daya.
    "91", "92", "93", "94", "95", "96",
})

FEMALE_DAY_OFFSET = 40


def nik_birth_date(nik: str, today: date | None = None) -> tuple[date, str] | None:
    """The date of birth and sex ("L"/"P") encoded in digits 7-12, or None if impossible.

    The year has two digits: it is the latest year ending in them that is not after ``today``.
    """
    if len(nik) != 16 or not nik.isdigit():
        return None
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "P" if day > FEMALE_DAY_OFFSET else "L"
    if sex == "P":
        day -= FEMALE_DAY_OFFSET
    today = today or date.today()
    year = today.year - (today.year - year2) % 100
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    if born > today:  # born later this year than today: a century earlier
        try:
            born = date(year - 100, month, day)
        except ValueError:
            return None
    return born, sex


def validate_nik(nik: str, birth_date: date | str | None, sex: str | None, today: date | None = None) -> list[str]:
    """Every reason ``nik`` cannot be the NIK of someone born on ``birth_date`` of ``sex``
    ("L" laki-laki / "P" perempuan); an empty list when it can.

    ``birth_date`` and ``sex`` may be missing or malformed (the form reports those
    beside their own fields); the NIK is then checked on its own.
    """
    nik = (nik or "").strip()
    if len(nik) != 16 or not nik.isdigit():
        return [gettext("NIK harus 16 digit angka.")]
    problems = []
    if nik[:2] not in PROVINCE_CODES:
        problems.append(gettext("Dua digit pertama NIK bukan kode provinsi yang ada."))
    if nik[2:4] == "00" or nik[4:6] == "00":
        problems.append(gettext("Kode kabupaten/kota atau kecamatan pada NIK tidak boleh 00."))
    if nik[12:] == "0000":
        problems.append(gettext("Nomor urut pada NIK tidak boleh 0000."))
    decoded = nik_birth_date(nik, today)
    if decoded is None:
        problems.append(gettext("Digit 7-12 NIK bukan tanggal lahir yang mungkin."))
        return problems
    born, nik_sex = decoded
    entered = _as_date(birth_date)
    if entered is not None and (entered.day, entered.month, entered.year % 100) != (born.day, born.month, born.year % 100):
        nik_date = f"{born.day:02d}-{born.month:02d}-{born.year % 100:02d}"  # an f-string in the call upsets extraction
        problems.append(gettext("Tanggal lahir pada NIK ({nik_date}) tidak sama dengan tanggal lahir yang diisi.",
                                nik_date=nik_date))
    if sex == "L" and nik_sex == "P":
        problems.append(gettext("NIK ini milik perempuan (tanggal lahir ditambah 40), tetapi jenis kelamin diisi laki-laki."))
    elif sex == "P" and nik_sex == "L":
        problems.append(gettext("NIK ini milik laki-laki, tetapi jenis kelamin diisi perempuan."))
    return problems


def mask_nik(nik: str | None) -> str:
    """All but the last four digits hidden, for printed pages."""
    if not nik:
        return ""
    return "*" * max(len(nik) - 4, 0) + nik[-4:]


def _as_date(value: date | str | None) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
