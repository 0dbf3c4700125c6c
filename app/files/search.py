"""Finding files: by number, by the applicant's NIK or name, and the filtered list of every file.

Names are found through ``file_search_term``: each word of the applicant's name, folded to
lower-case ASCII, is a row written once when the file is opened. A query word matches every term
it is a prefix of (a range on the term index), so "amin" finds "Siti Aminah"; several words must
all match. Numbers and NIKs are exact lookups on their own unique/indexed columns.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session, aliased

from app.engine.models import ProcessDefinition, ProcessInstance
from app.files.days import WorkingDays
from app.files.models import ApplicationFile, FileSearchTerm
from app.i18n import N_
from app.sla_states import BREACHED, STATES

NIK = re.compile(r"^\d{16}$")
# File numbers hold a letter and a digit, or separators (PBG-2026-000001, 640/PBG/...).
FILE_NUMBER = re.compile(r"^(?=.*\d)(?=.*[A-Za-z/-])[A-Za-z0-9/.-]{4,40}$")
MIN_WORD = 2
MAX_WORDS = 5
MAX_TERMS = 12
TERM_LENGTH = 60
FILE_STATES = ("running", "completed", "error", "cancelled")
PAGE_SIZE = 50


class SearchInvalid(ValueError):
    """The query or a filter cannot be understood; ``field`` names which, ``reason`` why (Indonesian)."""

    def __init__(self, field: str, reason: str, **params: Any) -> None:
        self.field = field
        self.reason = reason
        self.params = params
        super().__init__(f"{field}: {reason}")


def name_terms(name: str) -> list[str]:
    """The searchable words of a name: lower-case ASCII letters and digits, in order, once each."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    words: list[str] = []
    for word in re.split(r"[^a-z0-9]+", folded):
        if len(word) >= MIN_WORD and word[:TERM_LENGTH] not in words:
            words.append(word[:TERM_LENGTH])
    return words[:MAX_TERMS]


def _prefix_upper(word: str) -> str:
    # Terms hold only [a-z0-9]: the next code point after the last character bounds the prefix
    # (compared bytewise: the column is collated "C" on PostgreSQL, BINARY on SQLite).
    return word[:-1] + chr(ord(word[-1]) + 1)


def index_file(session: Session, file: ApplicationFile) -> None:
    """Make a just-opened (flushed) file findable by the words of its applicant's name."""
    terms = name_terms(file.applicant_name or "")
    if terms:
        session.execute(insert(FileSearchTerm), [{"term": t, "file_id": file.id, "created_at": file.created_at}
                                                 for t in terms])


@dataclass(frozen=True)
class FileQuery:
    """What an officer typed and chose on the files page; every part optional."""

    text: str = ""
    permit_type: str | None = None
    state: str | None = None
    sla_state: str | None = None
    overdue: bool = False
    received_from: date | None = None
    received_to: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> FileQuery:
        """Read the query string; a value that is not understood raises :class:`SearchInvalid`."""
        text = (args.get("q") or "").strip()[:200]
        state = args.get("state") or None
        if state is not None and state not in FILE_STATES:
            raise SearchInvalid("state", N_("Status berkas tidak dikenal."))
        sla_state = args.get("sla_state") or None
        if sla_state is not None and sla_state not in STATES:
            raise SearchInvalid("sla_state", N_("Status batas waktu tidak dikenal."))
        received_from = _date_arg(args, "from")
        received_to = _date_arg(args, "to")
        if received_from and received_to and received_to < received_from:
            raise SearchInvalid("to", "Tanggal akhir sebelum tanggal awal.")
        try:
            page = max(1, min(int(args.get("page") or 1), 10_000))
        except ValueError:
            raise SearchInvalid("page", N_("Nomor halaman tidak sah.")) from None
        return cls(text=text, permit_type=args.get("permit_type") or None, state=state, sla_state=sla_state,
                   overdue=args.get("overdue") in ("1", "on", "true"), received_from=received_from,
                   received_to=received_to, page=page)

    @property
    def filtered(self) -> bool:
        return bool(self.text or self.permit_type or self.state or self.sla_state or self.overdue
                    or self.received_from or self.received_to)

    def args(self, **changes: Any) -> dict[str, str]:
        """This query as URL arguments (for links to other pages of it)."""
        q = replace(self, **changes)
        out = {"q": q.text, "permit_type": q.permit_type or "", "state": q.state or "",
               "sla_state": q.sla_state or "", "overdue": "1" if q.overdue else "",
               "from": q.received_from.isoformat() if q.received_from else "",
               "to": q.received_to.isoformat() if q.received_to else "", "page": str(q.page) if q.page > 1 else ""}
        return {k: v for k, v in out.items() if v}


def _date_arg(args: Any, name: str) -> date | None:
    value = args.get(name) or ""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SearchInvalid(name, N_("Tanggal harus berformat TTTT-BB-HH.")) from None


@dataclass
class FoundFile:
    file_number: str
    applicant_name: str
    applicant_nik: str | None
    process_id: str
    permit_name: str
    created_at: datetime
    status: str | None
    sla_state: str | None
    sla_due_at: datetime | None
    past_legal_limit: bool


@dataclass
class FilePage:
    rows: list[FoundFile]
    page: int
    has_next: bool
    matched_by: str = ""  # number | nik | name | list
    permit_types: list[tuple[str, str]] = field(default_factory=list)


def search_files(session: Session, query: FileQuery, *, calendar: WorkingDays, now: datetime,
                 page_size: int | None = None) -> FilePage:
    """The files matching ``query``, newest first, one page at a time."""
    page_size = page_size or PAGE_SIZE
    offset = (query.page - 1) * page_size
    statement, matched_by = search_statement(query, calendar=calendar, now=now, within=offset + page_size + 1)
    rows = session.execute(statement.offset(offset).limit(page_size + 1)).all()
    names = permit_names(session)
    found = [FoundFile(file_number=r.file_number or "", applicant_name=r.applicant_name, applicant_nik=r.applicant_nik,
                       process_id=r.process_id, permit_name=names.get(r.process_id, r.process_id),
                       created_at=r.created_at, status=r.status, sla_state=r.sla_state, sla_due_at=r.sla_due_at,
                       past_legal_limit=r.past_legal_limit) for r in rows[:page_size]]
    return FilePage(found, query.page, len(rows) > page_size, matched_by, sorted(names.items(), key=lambda i: i[1]))


def search_statement(query: FileQuery, *, calendar: WorkingDays, now: datetime,
                     within: int | None = None) -> tuple[Any, str]:
    """The ordered SELECT of the files matching ``query``, and what the text matched by; ``within``:
    only the first rows up to that many will be read (lets a name search stop early)."""
    statement = select(ApplicationFile.file_number, ApplicationFile.applicant_name, ApplicationFile.applicant_nik,
                       ApplicationFile.process_id, ApplicationFile.created_at, ApplicationFile.sla_state,
                       ApplicationFile.sla_due_at, ApplicationFile.past_legal_limit, ProcessInstance.status
                       ).outerjoin(ProcessInstance, ProcessInstance.id == ApplicationFile.instance_id)
    only_text = not replace(query, text="", page=1).filtered
    statement, matched_by = _text_condition(statement, query.text, within if only_text else None)
    if query.permit_type:
        statement = statement.where(ApplicationFile.process_id == query.permit_type)
    if query.state:
        statement = statement.where(ProcessInstance.status == query.state)
    if query.sla_state:
        statement = statement.where(ApplicationFile.sla_state == query.sla_state,
                                    ApplicationFile.sla_stopped_at.is_(None))
    if query.overdue:
        statement = statement.where(ApplicationFile.sla_stopped_at.is_(None), (
            (ApplicationFile.sla_state == BREACHED) | and_(ApplicationFile.sla_paused_at.is_(None),
                                                           ApplicationFile.sla_due_at < now)))
    if query.received_from:
        statement = statement.where(ApplicationFile.created_at >= _start_of(calendar, query.received_from))
    if query.received_to:
        statement = statement.where(ApplicationFile.created_at < _start_of(calendar, query.received_to
                                                                            + timedelta(days=1)))
    return statement.order_by(ApplicationFile.created_at.desc(), ApplicationFile.id.desc()), matched_by


def _text_condition(statement: Any, text: str, within: int | None = None) -> tuple[Any, str]:
    if not text:
        return statement, "list"
    compact = text.replace(" ", "")
    if NIK.match(compact):
        return statement.where(ApplicationFile.applicant_nik == compact), "nik"
    if FILE_NUMBER.match(text):
        return statement.where(ApplicationFile.file_number == text.upper()), "number"
    words = name_terms(text)
    if not words:
        raise SearchInvalid("q", N_("Ketik nomor berkas, NIK (16 angka), atau paling sedikit {n} huruf nama pemohon."),
                            n=MIN_WORD)
    # Files having every word: one index range per word, joined on the file (a separate semi-join
    # per word lets the planner scan every file when the words are common).
    terms = [aliased(FileSearchTerm) for _ in words[:MAX_WORDS]]
    ids = select(terms[0].file_id)
    for term in terms[1:]:
        ids = ids.join(term, term.file_id == terms[0].file_id)
    ids = ids.where(*(and_(term.term >= word, term.term < _prefix_upper(word))
                      for term, word in zip(terms, words[:MAX_WORDS], strict=True)))
    if len(terms) > 1:
        # Several words: find their files first, always (walking the newest files hoping to meet a
        # rare combination would read them all when it does not exist); with no other filter, only
        # the newest that the page shows (the terms carry the file's time).
        if within is not None:
            ids = ids.order_by(terms[0].created_at.desc(), terms[0].file_id.desc()).limit(within)
        matching = ids.cte("matching_files").prefix_with("MATERIALIZED")
        ids = select(matching.c.file_id)
    return statement.where(ApplicationFile.id.in_(ids)), "name"


def _start_of(calendar: WorkingDays, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=calendar.timezone)


def permit_names(session: Session) -> dict[str, str]:
    """Each deployed process's name (its latest version's), by process id."""
    latest = select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("v")) \
        .group_by(ProcessDefinition.process_id).subquery()
    rows = session.execute(select(ProcessDefinition.process_id, ProcessDefinition.name).join(
        latest, and_(latest.c.process_id == ProcessDefinition.process_id, latest.c.v == ProcessDefinition.version)))
    return {process_id: name for process_id, name in rows}
