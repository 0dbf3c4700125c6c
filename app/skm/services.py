"""The survey: its one-time link per file, taking an answer, and the index (IKM).

The link of a file is ``/survey/<file id>.<mac>``: an HMAC (keyed by the application secret)
over the file id, so it needs no stored secret and cannot be made up for another file. It opens
once the file's procedure has ended (the permit, or the refusal, was handed over) and takes one
response; the response itself does not say which file it came from.

The index follows PermenPAN-RB 14/2017: per element NRR = sum of scores / respondents, and
IKM = (sum of the nine NRR x 1/9) x 25, computed exactly (fractions) and rounded half up to
two decimals; the band is read from the rounded figure.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine.models import InstanceStatus
from app.errors import Invalid
from app.files.models import ApplicationFile
from app.i18n import N_
from app.skm.models import ELEMENTS, SurveyResponse, SurveyTokenUse

_TOKEN = re.compile(r"^([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{22})$")
SUGGESTION_MAX = 2000
# (lowest IKM of the band, band, Indonesian name), best first; the bands of PermenPAN-RB 14/2017.
BANDS = ((Decimal("88.31"), "A", N_("Sangat baik")), (Decimal("76.61"), "B", N_("Baik")),
         (Decimal("65.00"), "C", N_("Kurang baik")), (Decimal("25.00"), "D", N_("Tidak baik")))


class SurveyInvalid(Invalid):
    """The answers cannot be taken as given; nothing was stored. ``errors`` maps field -> message key."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))


# -- the link ----------------------------------------------------------------------------------
def _mac(secret: str, file_id: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"ptsp-skm|{file_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def survey_token(file: ApplicationFile, secret: str) -> str:
    """The token of ``file``'s survey link (printed as a QR code on the handover sheet)."""
    return f"{file.id}.{_mac(secret, file.id)}"


def survey_open_for(file: ApplicationFile | None) -> bool:
    """The survey opens once the file's procedure has ended (after handover)."""
    return file is not None and file.instance is not None and file.instance.status == InstanceStatus.COMPLETED


@dataclass(frozen=True)
class Invitation:
    status: str  # open|answered|not_yet|invalid
    file: ApplicationFile | None = None


def invitation(session: Session, token: str, secret: str) -> Invitation:
    """What the survey link ``token`` opens: the form, a thank-you, "not yet", or nothing."""
    match = _TOKEN.match((token or "").strip())
    if match is None:
        return Invitation("invalid")
    file_id, mac = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(_mac(secret, file_id), mac):
        return Invitation("invalid")
    file = session.get(ApplicationFile, file_id)
    if file is None:
        return Invitation("invalid")
    if session.get(SurveyTokenUse, file_id) is not None:
        return Invitation("answered", file)
    return Invitation("open" if survey_open_for(file) else "not_yet", file)


def parse_answers(form: Mapping[str, Any]) -> tuple[dict[str, int], str | None]:
    """The nine scores (each 1-4) and the optional suggestion, or :class:`SurveyInvalid`."""
    scores: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name in ELEMENTS:
        raw = str(form.get(name) or "").strip()
        if raw not in {"1", "2", "3", "4"}:
            errors[name] = "choose"
        else:
            scores[name] = int(raw)
    suggestion = str(form.get("suggestion") or "").strip()
    if len(suggestion) > SUGGESTION_MAX:
        errors["suggestion"] = "too_long"
    if errors:
        raise SurveyInvalid(errors)
    return scores, (suggestion or None)


def record_response(session: Session, token: str, secret: str, form: Mapping[str, Any], today: date) -> SurveyResponse:
    """Store one response for the file of ``token`` (once); the response does not name the file."""
    found = invitation(session, token, secret)
    if found.status != "open" or found.file is None:
        raise SurveyInvalid({"token": found.status})
    scores, suggestion = parse_answers(form)
    try:
        with session.begin_nested():  # a second answer sent at the same moment fails here, on the primary key
            session.add(SurveyTokenUse(file_id=found.file.id))
    except IntegrityError:
        raise SurveyInvalid({"token": "answered"}) from None
    response = SurveyResponse(process_id=found.file.process_id, answered_on=today, suggestion=suggestion,
                              **{f"u_{name}": score for name, score in scores.items()})
    session.add(response)
    session.flush()
    return response


# -- the index ---------------------------------------------------------------------------------
def round2(value: Fraction) -> Decimal:
    """``value`` rounded half up to two decimals."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def band(ikm: Decimal) -> tuple[str, str]:
    """The band (letter, Indonesian name) of a two-decimal IKM."""
    for lowest, letter, name in BANDS:
        if ikm >= lowest:
            return letter, name
    return "D", N_("Tidak baik")


@dataclass(frozen=True)
class ElementScore:
    element: str
    total: int
    nrr: Decimal  # two decimals, for showing
    nrr_exact: Fraction


@dataclass(frozen=True)
class SurveyIndex:
    respondents: int
    elements: list[ElementScore]
    ikm: Decimal | None
    band: str | None
    band_name: str | None

    @property
    def weakest(self) -> list[ElementScore]:
        """The three elements with the lowest NRR: where the office should improve first."""
        return sorted(self.elements, key=lambda e: (e.nrr_exact, ELEMENTS.index(e.element)))[:3]


def format_score(value: Decimal | float | None, locale: str) -> str:
    """An IKM or NRR as published: always two decimals, in the reader's language (Babel): 82,35 in
    Indonesian, 82.35 in English. CSV and XLSX keep the number itself (machine-readable)."""
    if value is None:
        return "-"
    return format_decimal(value, format="#,##0.00", locale=locale)


def survey_index(totals: Mapping[str, int], respondents: int) -> SurveyIndex:
    """The IKM from the sum of scores per element and the number of respondents."""
    if respondents <= 0:
        return SurveyIndex(0, [], None, None, None)
    scores = [ElementScore(name, int(totals[name]), round2(Fraction(int(totals[name]), respondents)),
                           Fraction(int(totals[name]), respondents)) for name in ELEMENTS]
    ikm = round2(sum((s.nrr_exact for s in scores), Fraction(0)) * Fraction(1, 9) * 25)
    letter, name = band(ikm)
    return SurveyIndex(respondents, scores, ikm, letter, name)


def index_of(responses: Iterable[Mapping[str, int]]) -> SurveyIndex:
    """The IKM of individual responses ({element: score}); used for small sets and by tests."""
    totals = dict.fromkeys(ELEMENTS, 0)
    count = 0
    for response in responses:
        count += 1
        for name in ELEMENTS:
            totals[name] += int(response[name])
    return survey_index(totals, count)


def period_index(session: Session, start: date, end: date, process_id: str | None = None) -> SurveyIndex:
    """The IKM of the responses given from ``start`` to ``end`` (inclusive), for one permit type or all."""
    columns = [func.coalesce(func.sum(getattr(SurveyResponse, f"u_{name}")), 0) for name in ELEMENTS]
    query = select(func.count(SurveyResponse.id), *columns).where(
        SurveyResponse.answered_on >= start, SurveyResponse.answered_on <= end)
    if process_id:
        query = query.where(SurveyResponse.process_id == process_id)
    row = session.execute(query).one()
    return survey_index(dict(zip(ELEMENTS, (int(v) for v in row[1:]), strict=True)), int(row[0]))


def index_by_permit_type(session: Session, start: date, end: date) -> dict[str, SurveyIndex]:
    """The IKM of each permit type that has responses in the period."""
    columns = [func.sum(getattr(SurveyResponse, f"u_{name}")) for name in ELEMENTS]
    rows = session.execute(select(SurveyResponse.process_id, func.count(SurveyResponse.id), *columns).where(
        SurveyResponse.answered_on >= start, SurveyResponse.answered_on <= end)
        .group_by(SurveyResponse.process_id).order_by(SurveyResponse.process_id)).all()
    return {row[0]: survey_index(dict(zip(ELEMENTS, (int(v) for v in row[2:]), strict=True)), int(row[1]))
            for row in rows}


def quarter_of(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s quarter."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def latest_quarter_with_answers(session: Session, today: date) -> tuple[date, date] | None:
    """The quarter of the most recent response (to publish), or None when nobody has answered."""
    last = session.scalar(select(func.max(SurveyResponse.answered_on)).where(SurveyResponse.answered_on <= today))
    return quarter_of(last) if last is not None else None


def recent_suggestions(session: Session, start: date, end: date, limit: int = 20) -> list[str]:
    return [s for s in session.scalars(select(SurveyResponse.suggestion).where(
        SurveyResponse.answered_on >= start, SurveyResponse.answered_on <= end,
        SurveyResponse.suggestion.is_not(None)).order_by(SurveyResponse.answered_on.desc(),
                                                         SurveyResponse.id.desc()).limit(limit)) if s]
