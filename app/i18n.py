"""Bahasa Indonesia first, English available.

Texts are written in Indonesian in templates and code (``_("Daftar tugas")``);
each feature registers the English of its own texts with :func:`register`, so
features never edit a shared catalogue. Dates, numbers and Rupiah amounts are
formatted for the chosen language with Babel.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request, session

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"
_ENGLISH: dict[str, str] = {}
EMPTY = "\u2013"  # an en dash stands for "no value"


def register(english: dict[str, str]) -> None:
    """Add English translations, keyed by the Indonesian text."""
    for indonesian, text in english.items():
        previous = _ENGLISH.get(indonesian)
        if previous is not None and previous != text:
            raise ValueError(f"conflicting English for {indonesian!r}: {previous!r} vs {text!r}")
        _ENGLISH[indonesian] = text


_ENGLISH_ONE: dict[str, str] = {}  # English for n == 1 ("1 minute"), keyed by the Indonesian text


def register_singular(english: dict[str, str]) -> None:
    """English for texts whose ``{n}`` is 1 (Indonesian has no plural; English does)."""
    _ENGLISH_ONE.update(english)


def english_of(indonesian: str) -> str | None:
    return _ENGLISH.get(indonesian)


def current_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if "lang" not in g:
        chosen = request.args.get("lang") or session.get("lang") or request.cookies.get("lang")
        g.lang = chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
    lang: str = g.lang
    return lang


def gettext(indonesian: str, **values: Any) -> str:
    """The text in the current language; ``{name}`` placeholders are filled from ``values``."""
    text = indonesian
    if current_language() == "en":
        one = _ENGLISH_ONE.get(indonesian) if values.get("n") in (1, "1") else None
        text = one or _ENGLISH.get(indonesian, indonesian)
    return text.format(**values) if values else text


_ = gettext


def _locale() -> str:
    return "id_ID" if current_language() == "id" else "en_GB"


def _zone() -> ZoneInfo:
    """The office's time zone, given to :func:`init_app` (Flask-Babel's setting name)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def fmt_date(value: date | datetime | str | None) -> str:
    if value in (None, ""):
        return EMPTY
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(_zone()).date()
    return format_date(value, format="d MMMM y", locale=_locale())


def fmt_datetime(value: datetime | str | None) -> str:
    if value in (None, ""):
        return EMPTY
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(_zone())
    return format_datetime(local, format="d MMM y HH.mm", locale=_locale()) + " " + _zone_abbrev(local)


def _zone_abbrev(local: datetime) -> str:
    return {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(str(local.tzinfo), "")


def fmt_number(value: float | int | Decimal | None, digits: int = 2) -> str:
    if value is None:
        return EMPTY
    return format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=_locale())


def fmt_rupiah(value: float | int | Decimal | None) -> str:
    if value is None:
        return EMPTY
    return "Rp" + format_decimal(value, format="#,##0", locale="id_ID")


def fmt_duration(value: timedelta | None) -> str:
    """A short human duration: '3 hari 4 jam' / '3 days 4 hours'."""
    if value is None:
        return EMPTY
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(gettext("{n} hari", n=days))
    if hours:
        parts.append(gettext("{n} jam", n=hours))
    if not days and (minutes or not hours):
        parts.append(gettext("{n} menit", n=minutes))
    text = " ".join(parts[:2])
    return ("-" + text) if value.total_seconds() < 0 else text


register({
    "{n} hari": "{n} days",
    "{n} jam": "{n} hours",
    "{n} menit": "{n} minutes",
})
register_singular({
    "{n} hari": "{n} day",
    "{n} jam": "{n} hour",
    "{n} menit": "{n} minute",
    "{n} tugas terbuka": "{n} open task",
    "lebih dari {n} tugas terbuka": "more than {n} open task",
    "{n} hari kerja lagi": "{n} working day left",
    "lewat {n} hari kerja": "{n} working day late",
    "{n} hari kerja": "{n} working day",
    "{n} berkas berjalan": "{n} running file",
    "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.": "{n} problem found; fix it where it is marked in the diagram.",
    "{n} berkas dipindahkan ke versi {v}.": "{n} file moved to version {v}.",
    "{n} berkas tetap di versinya.": "{n} file stays on its version.",
})


def init_app(app: Flask, *, timezone: str) -> None:
    """Templates get ``_`` and the formatting filters; dates are shown in ``timezone`` (the office's)."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = timezone
    app.jinja_env.globals.update(_=gettext, current_language=current_language, LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(date=fmt_date, datetime=fmt_datetime, number=fmt_number, rupiah=fmt_rupiah,
                                 duration=fmt_duration)
