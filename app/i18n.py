"""Bahasa Indonesia first, English available.

Texts are written in Indonesian in templates and code (``_("Daftar tugas")``):
the Indonesian text is the gettext msgid, and its English lives in the catalogue
``app/translations/en/LC_MESSAGES/messages.po`` (compiled to ``messages.mo``
beside it, committed; ``make i18n`` extracts, updates and compiles, and
tests/test_i18n.py checks that every text has its English and the ``.mo`` is
current). Flask-Babel loads the catalogue for the language :func:`current_language`
chooses. A text defined away from its ``_()`` call (a list of labels) is marked
with :func:`N_` so extraction finds it. ``{name}`` placeholders are filled with
``str.format``. Dates, numbers and Rupiah amounts are formatted for the chosen
language with Babel.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import flask_babel  # type: ignore[import-untyped]  # ships no type information (mypy --strict on main)
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session

TRANSLATIONS = Path(__file__).parent / "translations"

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"
EMPTY = "\u2013"  # an en dash stands for "no value"


def N_(text: str) -> str:  # noqa: N802 (gettext's conventional name for a no-op marker)
    """Mark a text defined away from its ``_()`` call (a list of labels) so extraction finds it."""
    return text


@cache
def _english() -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), ["en"])


def english_of(indonesian: str) -> str | None:
    """The English of a text whatever the request's language (``None`` when it has none)."""
    text = getattr(_english(), "_catalog", {}).get(indonesian)
    return str(text) if text else None


def current_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if "lang" not in g:
        chosen = request.args.get("lang") or session.get("lang") or request.cookies.get("lang")
        g.lang = chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
    lang: str = g.lang
    return lang


def _translations() -> NullTranslations | None:
    """Flask-Babel's catalogue for the current language; ``None`` for Indonesian (the texts themselves)."""
    lang = current_language()
    if lang == DEFAULT_LANGUAGE or not has_app_context():
        return None
    locale = flask_babel.get_locale()
    if locale is None or str(locale) != lang:  # the language changed within the request (a PDF is always Indonesian)
        flask_babel.refresh()
    translations: NullTranslations = flask_babel.get_translations()
    return translations


def gettext(indonesian: str, **values: Any) -> str:
    """The text in the current language; ``{name}`` placeholders are filled from ``values``."""
    text = indonesian
    translations = _translations()
    if translations is not None:
        text = translations.gettext(indonesian)
        if text == indonesian and "n" in values:  # a text the catalogue holds with its plural
            text = translations.ngettext(indonesian, indonesian, _count(values["n"]))
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, num: int | str, **values: Any) -> str:
    """The text for ``num`` things in the current language: English says "1 day" but "2 days".

    Indonesian has no plural, so ``singular`` and ``plural`` are usually the same text. ``{n}`` is
    filled with ``num`` unless ``values`` gives it (a formatted number, say).
    """
    values.setdefault("n", num)
    count = _count(num)
    text = singular if count == 1 else plural
    translations = _translations()
    if translations is not None:
        text = translations.ngettext(singular, plural, count)
    return text.format(**values)


def _count(num: object) -> int:
    """How many things ``num`` counts (a count may come formatted, as text; "{n}" for a page to fill counts many)."""
    if isinstance(num, int):
        return num
    try:
        return int(str(num).replace(".", "").replace(",", ""))
    except ValueError:
        return 0


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
        parts.append(ngettext("{n} hari", "{n} hari", days))
    if hours:
        parts.append(ngettext("{n} jam", "{n} jam", hours))
    if not days and (minutes or not hours):
        parts.append(ngettext("{n} menit", "{n} menit", minutes))
    text = " ".join(parts[:2])
    return ("-" + text) if value.total_seconds() < 0 else text


def init_app(app: Flask, *, timezone: str) -> None:
    """Flask-Babel with the catalogues of app/translations; templates get ``_``, ``gettext``, ``ngettext``
    and the formatting filters; dates are shown in ``timezone`` (the office's)."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = timezone
    # Templates call our gettext ({name} placeholders), not the jinja2 i18n extension's (%(name)s).
    flask_babel.Babel(app, default_locale=DEFAULT_LANGUAGE, default_translation_directories=str(TRANSLATIONS),
                      default_timezone=timezone, locale_selector=current_language, configure_jinja=False)
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, N_=N_, current_language=current_language,
                                 LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(date=fmt_date, datetime=fmt_datetime, number=fmt_number, rupiah=fmt_rupiah,
                                 duration=fmt_duration)
