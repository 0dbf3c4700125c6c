"""Every Indonesian text of the interface has its English in the catalogue, and formats are Indonesian by default."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, g

import app.models  # noqa: F401
from app import create_app
from app.config import ROOT
from app.i18n import fmt_date, fmt_datetime, fmt_duration, fmt_rupiah, gettext, ngettext

CATALOGUE = ROOT / "app" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


@dataclass(frozen=True)
class Text:
    msgid: str
    plural: bool  # extracted from ngettext
    where: str


@cache
def interface_texts() -> dict[str, Text]:
    """The texts extraction finds in app/ (Python and templates), as `make i18n` extracts them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    texts: dict[str, Text] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / "app"), method_map, options_map, keywords=DEFAULT_KEYWORDS):
        plural = isinstance(message, tuple | list)
        msgid = message[0] if plural else message
        if msgid and (msgid not in texts or plural):
            texts[msgid] = Text(msgid, plural, f"app/{filename}:{lineno}")
    return texts


@cache
def catalogue() -> Catalog:
    with (CATALOGUE / "messages.po").open("rb") as po:
        return read_po(po, locale="en")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def english(msgid: str) -> str | tuple[str, ...] | None:
    message = catalogue().get(msgid)
    return message.string if message is not None and not message.fuzzy else None  # type: ignore[no-any-return]


def test_extraction_finds_the_interface_texts() -> None:
    texts = interface_texts()
    assert len(texts) > 500
    assert texts["Keluar"].where.startswith("app/templates/")
    assert texts["{n} hari"].plural
    assert "Loket Pelayanan" in texts  # labels defined away from their _() call are marked N_()
    assert "jalur" in texts  # ... in templates too


def test_no_text_is_translated_inside_an_f_string() -> None:
    """Extraction does not look inside f-strings: a text translated there would have no English."""
    hidden = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.JoinedStr):
                hidden += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in ast.walk(node)
                           if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                           and call.func.id in {"_", "gettext", "ngettext", "N_"}]
    assert hidden == [], "translate outside the f-string and put the result in it"


def test_every_interface_text_has_its_english() -> None:
    missing = {t.msgid: t.where for t in interface_texts().values() if not english(t.msgid)}
    assert missing == {}, f"texts without English (run `make i18n` and write their msgstr): {missing}"


def test_counted_texts_have_both_english_forms() -> None:
    wrong = {}
    for text in interface_texts().values():
        message = catalogue().get(text.msgid)
        if text.plural:
            forms = message.string if message is not None and message.pluralizable else ()
            if not all(forms) or len(forms) != 2:
                wrong[text.msgid] = f"{text.where}: needs msgstr[0] (one) and msgstr[1] (more)"
        elif message is not None and message.pluralizable:
            wrong[text.msgid] = f"{text.where}: the catalogue counts it; call ngettext(...)"
    assert wrong == {}


def test_english_has_the_same_placeholders() -> None:
    wrong = {}
    for text in interface_texts().values():
        forms = english(text.msgid)
        for form in forms if isinstance(forms, tuple) else (forms,):
            if form and placeholders(form) != placeholders(text.msgid):
                wrong[text.msgid] = form
    assert wrong == {}


def test_the_compiled_catalogue_is_the_po() -> None:
    def text(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
        return value if isinstance(value, str) else tuple(value)  # plural forms: a list in a .mo

    with (CATALOGUE / "messages.mo").open("rb") as mo:
        compiled = {text(message.id): text(message.string) for message in read_mo(mo) if message.id}
    translated = {text(message.id): text(message.string) for message in catalogue()
                  if message.id and all(_forms(message.string)) and not message.fuzzy}
    assert compiled == translated, "messages.mo is out of date: run `make i18n`"


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


def test_dates_money_and_durations_are_indonesian_by_default_and_english_on_request() -> None:
    flask_app: Flask = create_app()
    when = datetime(2026, 8, 17, 2, 30, tzinfo=UTC)
    with flask_app.test_request_context("/"):
        assert fmt_date(date(2026, 8, 17)) == "17 Agustus 2026"
        assert fmt_datetime(when) == "17 Agu 2026 09.30 WIB"
        assert fmt_rupiah(1575000) == "Rp1.575.000"
        assert fmt_duration(timedelta(days=3, hours=4)) == "3 hari 4 jam"
        assert gettext("Keluar") == "Keluar"
        assert ngettext("{n} tugas terbuka", "{n} tugas terbuka", 1) == "1 tugas terbuka"
    with flask_app.test_request_context("/?lang=en"):
        assert fmt_date(date(2026, 8, 17)) == "17 August 2026"
        assert fmt_duration(timedelta(days=3, hours=4)) == "3 days 4 hours"
        assert gettext("Keluar") == "Sign out"
        # English counts one in the singular; Indonesian has no plural.
        assert fmt_duration(timedelta(minutes=1)) == "1 minute"
        assert fmt_duration(timedelta(days=1, hours=1)) == "1 day 1 hour"
        assert fmt_duration(timedelta(minutes=2)) == "2 minutes"
        assert ngettext("{n} tugas terbuka", "{n} tugas terbuka", 1) == "1 open task"
        assert ngettext("{n} tugas terbuka", "{n} tugas terbuka", 1200, n="1,200") == "1,200 open tasks"


def test_lane_titles_come_in_both_languages() -> None:
    from app.auth.lanes import LANES

    assert dict(LANES["front_office"]) == {"id": "Loket Pelayanan", "en": "Front desk"}


def test_a_request_can_switch_to_indonesian_midway() -> None:
    """The permit PDF is always Indonesian, whoever downloads it first."""
    flask_app: Flask = create_app()
    with flask_app.test_request_context("/?lang=en"):
        assert gettext("Keluar") == "Sign out"
        g.lang = "id"
        assert gettext("Keluar") == "Keluar"
