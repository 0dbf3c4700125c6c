"""Password strength: long enough and not guessable.

zxcvbn (Dropbox's estimator, with its lists of common passwords, names, words,
keyboard patterns, repeats and sequences) scores a password from 0 to 4; we
accept 3 or more ("safely unguessable: moderate protection from offline
attacks"), with the user's own name and username counted as guessable words.
Only the first 72 characters are estimated (zxcvbn's own limit keeps it fast).
"""
from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

from app.i18n import N_

MIN_LENGTH = 10
MIN_SCORE = 3

TOO_SHORT = N_("Kata sandi minimal 10 karakter.")
REPEATED = N_("Kata sandi ini berupa pengulangan atau urutan yang mudah ditebak; pakai beberapa kata yang tidak umum.")
COMMON = N_("Kata sandi ini terlalu umum atau mudah ditebak; pakai beberapa kata yang tidak umum.")
PERSONAL = N_("Kata sandi tidak boleh memuat nama pengguna atau nama Anda.")


def password_problem(password: str, personal: Iterable[str] = ()) -> str | None:
    """``None`` when ``password`` is acceptable, else the (Indonesian) message saying why not."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    words = [w for w in personal if w and len(w) >= 3]
    result = zxcvbn(password[:72], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    patterns = {m.get("pattern") for m in result["sequence"]}
    if any(m.get("pattern") == "dictionary" and m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        return PERSONAL
    if patterns & {"repeat", "sequence", "spatial"}:
        return REPEATED
    return COMMON
