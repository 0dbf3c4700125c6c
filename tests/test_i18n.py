"""Every Indonesian text of the interface has its English, and formats are Indonesian by default."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Flask

import app.models  # noqa: F401
from app import create_app
from app.config import ROOT
from app.i18n import english_of, fmt_date, fmt_datetime, fmt_duration, fmt_rupiah, gettext

# _("...") in templates and gettext("...") / _("...") in Python, literal strings only.
CALL = re.compile(r"""(?:\b_|\bgettext)\(\s*(["'])((?:(?!\1).)+)\1\s*[,)]""")


def interface_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in [*(ROOT / "app" / "templates").rglob("*.html"), *(ROOT / "app").rglob("*.py")]:
        for match in CALL.finditer(path.read_text("utf-8")):
            texts.setdefault(match.group(2), str(path.relative_to(ROOT)))
    return texts


def test_every_interface_text_has_its_english() -> None:
    create_app()  # imports every feature, which registers its English
    texts = interface_texts()
    assert len(texts) > 20
    missing = {text: where for text, where in texts.items() if english_of(text) is None and "{{" not in text}
    assert missing == {}, f"texts without English (register them next to their view): {missing}"


def test_dates_money_and_durations_are_indonesian_by_default_and_english_on_request() -> None:
    flask_app: Flask = create_app()
    when = datetime(2026, 8, 17, 2, 30, tzinfo=UTC)
    with flask_app.test_request_context("/"):
        assert fmt_date(date(2026, 8, 17)) == "17 Agustus 2026"
        assert fmt_datetime(when) == "17 Agu 2026 09.30 WIB"
        assert fmt_rupiah(1575000) == "Rp1.575.000"
        assert fmt_duration(timedelta(days=3, hours=4)) == "3 hari 4 jam"
        assert gettext("Keluar") == "Keluar"
    with flask_app.test_request_context("/?lang=en"):
        assert fmt_date(date(2026, 8, 17)) == "17 August 2026"
        assert fmt_duration(timedelta(days=3, hours=4)) == "3 days 4 hours"
        assert gettext("Keluar") == "Sign out"
        # English counts one in the singular; Indonesian has no plural.
        assert fmt_duration(timedelta(minutes=1)) == "1 minute"
        assert fmt_duration(timedelta(days=1, hours=1)) == "1 day 1 hour"
        assert fmt_duration(timedelta(minutes=2)) == "2 minutes"
        assert gettext("{n} berkas berjalan", n=1) == "1 running file"
