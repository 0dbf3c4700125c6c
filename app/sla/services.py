"""Calendar administration and manager responsibilities, and the office calendar
built from them.

The office :class:`~app.sla.calendar.WorkingCalendar` is the national holidays
(and, as a setting, cuti bersama) plus the dates administrators added or
removed. Each process caches it and rebuilds it when the ``calendar_revision``
token changes: in a transaction the token is read through the caller's session
(one primary-key read), outside one at most every ``calendar_refresh_seconds``.
The token is random, so a change that rolled back never matches a later one.
"""
from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.auth.lanes import LANES
from app.auth.models import User
from app.clock import Clock
from app.config import Settings
from app.db import Database
from app.engine.errors import NotFound
from app.errors import Invalid
from app.i18n import N_, fmt_date, gettext
from app.sla.calendar import WorkingCalendar
from app.sla.hours import OfficeHours
from app.sla.models import CalendarDay, CalendarRevision, ManagerResponsibility

_REVISION_ID = 1


class _Refusal(Invalid):
    """A refusal with its own sentence for the person (Indonesian, ``N_``-marked; English in the .po)
    besides the English detail for logs and the API."""

    def __init__(self, detail: str, say: str, **params: Any) -> None:
        super().__init__(detail)
        self.say, self.params = say, params

    def user_message(self) -> str:
        return gettext(self.say, **self.params)


class CalendarError(_Refusal):
    """A calendar change that cannot be made; nothing was changed."""


class ResponsibilityError(_Refusal):
    """A manager responsibility that cannot be assigned; nothing was changed."""


class NoCalendarChange(NotFound):
    message = N_("Tanggal itu tidak punya perubahan kalender (mungkin baru saja dihapus).")


class NoSuchResponsibility(NotFound):
    message = N_("Tanggung jawab itu tidak ada (mungkin baru saja dihapus).")


# -- the office calendar -----------------------------------------------------------


class OfficeCalendar:
    """The office's working calendar, cached in-process and rebuilt when days change."""

    def __init__(self, settings: Settings, database: Database | None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.database = database
        self.hours = OfficeHours.parse(settings.office_hours)
        self._monotonic = monotonic
        _OFFICE_CALENDARS.add(self)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._calendar = self._build([])
        self._checked_at: float | None = None

    def current(self, session: Session | None = None) -> WorkingCalendar:
        """The calendar as the database says now (through ``session`` when given)."""
        if session is not None:
            return self._refresh(session)
        checked = self._checked_at
        if self.database is None or (checked is not None and
                                     self._monotonic() - checked < self.settings.calendar_refresh_seconds):
            return self._calendar
        with self.database.sessions() as own:
            return self._refresh(own)

    def invalidate(self) -> None:
        """Re-read the token on the next call without a session."""
        self._checked_at = None

    def _refresh(self, session: Session) -> WorkingCalendar:
        token = session.scalar(select(CalendarRevision.token).where(CalendarRevision.id == _REVISION_ID))
        with self._lock:
            if token == self._token:
                self._checked_at = self._monotonic()
                return self._calendar
        days = list(session.scalars(select(CalendarDay)))
        calendar = self._build(days)
        with self._lock:
            self._token, self._calendar, self._checked_at = token, calendar, self._monotonic()
        return calendar

    def _build(self, days: list[CalendarDay]) -> WorkingCalendar:
        return WorkingCalendar(
            include_cuti_bersama=self.settings.include_cuti_bersama,
            extra_holidays=[d.day for d in days if d.kind == "add"],
            removed_holidays=[d.day for d in days if d.kind == "remove"],
            timezone=self.settings.timezone,
        )


# Every office calendar of this process: a committed change of days invalidates
# them at once; other processes see it within ``calendar_refresh_seconds``.
_OFFICE_CALENDARS: weakref.WeakSet[OfficeCalendar] = weakref.WeakSet()


@event.listens_for(Session, "after_commit")
def _calendar_changed(session: Session) -> None:
    if session.info.pop("calendar_changed", False):
        engine = session.get_bind()
        for calendar in list(_OFFICE_CALENDARS):
            if calendar.database is not None and calendar.database.engine is engine:
                calendar.invalidate()


@event.listens_for(Session, "after_rollback")
def _calendar_unchanged(session: Session) -> None:
    session.info.pop("calendar_changed", None)


def _bump_revision(session: Session, now: datetime) -> None:
    session.info["calendar_changed"] = True
    revision = session.get(CalendarRevision, _REVISION_ID)
    if revision is None:
        session.add(CalendarRevision(id=_REVISION_ID, token=uuid.uuid4().hex, changed_at=now))
    else:
        revision.token = uuid.uuid4().hex
        revision.changed_at = now


def _set_day(session: Session, day: date, kind: str, reason: str, actor: str, clock: Clock) -> CalendarDay:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise CalendarError("give a date such as 2026-03-20", N_("Isi tanggal, misalnya 20-03-2026."))
    reason = (reason or "").strip()
    if not reason:
        raise CalendarError("give a reason (e.g. the decree that set the date)",
                            N_("Tuliskan alasannya, misalnya surat keputusan yang menetapkan tanggal itu."))
    if len(reason) > 300:
        raise CalendarError("the reason is longer than 300 characters", N_("Alasan paling panjang 300 karakter."))
    if day.weekday() >= 5:
        raise CalendarError(f"{day.isoformat()} is a {day:%A}: weekends are never working days and need no holiday",
                            N_("{day} jatuh pada akhir pekan: Sabtu dan Minggu memang bukan hari kerja, tidak perlu "
                               "ditandai libur."), day=fmt_date(day))
    now = clock.now()
    row = session.scalars(select(CalendarDay).where(CalendarDay.day == day)).first()
    if row is None:
        row = CalendarDay(day=day, kind=kind, reason=reason, created_by=actor, created_at=now)
        session.add(row)
    else:
        row.kind, row.reason, row.created_by, row.created_at = kind, reason, actor, now
    _bump_revision(session, now)
    session.flush()
    return row


def add_holiday(session: Session, day: date, reason: str, actor: str, clock: Clock) -> CalendarDay:
    """Declare ``day`` (Monday to Friday) a non-working day for the office.

    Replaces an earlier change of the same date. Deadlines already computed keep
    their value; clocks that start or resume afterwards count the new day.
    """
    return _set_day(session, day, "add", reason, actor, clock)


def remove_holiday(session: Session, day: date, reason: str, actor: str, clock: Clock) -> CalendarDay:
    """Declare ``day`` (Monday to Friday) a working day, even if it is a national
    holiday or cuti bersama in the ``holidays`` package."""
    return _set_day(session, day, "remove", reason, actor, clock)


def clear_calendar_day(session: Session, day: date, clock: Clock) -> None:
    """Undo an administrator's change of ``day`` (back to the national calendar)."""
    row = session.scalars(select(CalendarDay).where(CalendarDay.day == day)).first()
    if row is None:
        raise NoCalendarChange(f"no calendar change on {day.isoformat()}")
    session.delete(row)
    _bump_revision(session, clock.now())
    session.flush()


def list_calendar_days(session: Session, year: int | None = None) -> list[CalendarDay]:
    """The administrators' changes, by date (of ``year`` when given)."""
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(session.scalars(query))


# -- manager responsibilities ---------------------------------------------------------


@dataclass(frozen=True)
class Responsibility:
    user: str
    process_id: str | None
    lane: str | None
    full_name: str = ""


def assign_manager(session: Session, user: User, process_id: str | None, lane: str | None, actor: str,
                   clock: Clock) -> ManagerResponsibility:
    """Make ``user`` (role manager or admin) responsible for ``process_id`` and/or ``lane``;
    ``None`` means any. Critical escalations of matching files and steps go to them."""
    if user.role not in ("manager", "admin"):
        raise ResponsibilityError(f"{user.username!r} has the role {user.role!r}; only managers and admins can be responsible",
                                  N_("Hanya manajer atau administrator yang dapat diberi tanggung jawab."))
    if lane is not None and lane not in LANES:
        raise ResponsibilityError(f"unknown lane {lane!r}; known: {', '.join(LANES)}",
                                  N_("Pilih jalur tugas yang tersedia."))
    existing = _find_responsibility(session, user, process_id, lane)
    if existing is not None:
        return existing
    row = ManagerResponsibility(user_id=user.id, process_id=process_id, lane=lane, created_by=actor,
                                created_at=clock.now())
    session.add(row)
    session.flush()
    return row


def unassign_manager(session: Session, user: User, process_id: str | None, lane: str | None) -> None:
    """Remove exactly that responsibility of ``user``."""
    existing = _find_responsibility(session, user, process_id, lane)
    if existing is None:
        raise NoSuchResponsibility(
            f"{user.username!r} is not responsible for process {process_id or 'any'}, lane {lane or 'any'}")
    session.delete(existing)
    session.flush()


def list_responsibilities(session: Session) -> list[Responsibility]:
    """Every responsibility, by user, then "any" before a named process or lane."""
    rows = session.execute(
        select(User.username, ManagerResponsibility.process_id, ManagerResponsibility.lane, User.full_name)
        .join(User, User.id == ManagerResponsibility.user_id))
    return sorted((Responsibility(*row) for row in rows), key=lambda r: (r.user, r.process_id or "", r.lane or ""))


@dataclass(frozen=True)
class Coverage:
    """What escalations cannot reach: permit types and lanes with no responsible manager who has an
    email address, and responsible managers without one."""

    process_ids: list[str]
    lanes: list[str]
    managers_without_email: list[str]


def responsibility_coverage(session: Session, process_ids: list[str], lanes: list[str]) -> Coverage:
    """Which permit types and lanes have nobody responsible (with an email address) for critical escalations."""
    rows = session.execute(select(User.username, User.email, ManagerResponsibility.process_id,
                                  ManagerResponsibility.lane)
                           .join(User, User.id == ManagerResponsibility.user_id).where(User.active.is_(True))).all()
    reachable = [(process_id, lane) for _, email, process_id, lane in rows if email]
    return Coverage(
        process_ids=[p for p in process_ids if not any(rp in (None, p) for rp, _ in reachable)],
        lanes=[lane for lane in lanes if not any(rl in (None, lane) for _, rl in reachable)],
        managers_without_email=sorted({username for username, email, _, _ in rows if not email}))


def _find_responsibility(session: Session, user: User, process_id: str | None,
                         lane: str | None) -> ManagerResponsibility | None:
    query = select(ManagerResponsibility).where(ManagerResponsibility.user_id == user.id)
    query = query.where(ManagerResponsibility.process_id.is_(None) if process_id is None
                        else ManagerResponsibility.process_id == process_id)
    query = query.where(ManagerResponsibility.lane.is_(None) if lane is None else ManagerResponsibility.lane == lane)
    return session.scalars(query).first()
