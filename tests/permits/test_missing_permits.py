"""After an upgrade: files signed under a version that issued permits later (at the end of the process)
or not at all get their permits from ``ptsp issue-missing-permits``, dated when they were signed, once."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.permits.models import Permit
from app.permits.repair import issue_missing_permits
from app.permits.services import PermitIssuer
from tests.catalogue import samples as s
from tests.walking import Steps, do, open_new, serial

BEFORE_SIGNING: Steps = [("register_application", s.SIUP_REGISTRATION), ("check_documents", s.SIUP_CHECK),
                  ("verify_business", s.SIUP_VERIFICATION)]


@contextmanager
def earlier_version(c: Container) -> Iterator[None]:
    """Steps taken while no permit was issued when a handover opened (the listener is not there)."""
    listeners = list(c.runtime.listeners)
    c.runtime.listeners[:] = [listener for listener in listeners if not isinstance(listener, PermitIssuer)]
    try:
        yield
    finally:
        c.runtime.listeners[:] = listeners


def walk(c: Container, steps: Steps) -> str:
    number = open_new(c, "trade_licence")
    for name, data in steps:
        do(c, number, name, data)
    return number


def permits_of(c: Container, number: str) -> list[Permit]:
    with c.db.unit_of_work() as session:
        permits = list(session.scalars(select(Permit).where(Permit.permit_number == f"510/SIUP/{serial(number)}")))
        session.expunge_all()
    return permits


def repair(c: Container, dry_run: bool = False) -> dict[str, tuple[str, ...]]:
    with c.db.unit_of_work() as session:
        found = issue_missing_permits(session, c.runtime, PermitIssuer(c.settings).zone, dry_run=dry_run)
    return {missing.file_number: missing.permit_numbers for missing in found}


def test_a_file_whose_handover_opened_before_the_upgrade_gets_its_permit_dated_when_signed(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    c = deployed
    with earlier_version(c):
        number = walk(c, [*BEFORE_SIGNING, ("sign_permit", s.SIGN_APPROVE)])  # the handover is open
    signed = clock.now()
    still_working = walk(c, BEFORE_SIGNING[:1])  # not signed yet: nothing to issue
    assert permits_of(c, number) == []
    clock.advance(days=3)

    assert repair(c, dry_run=True) == {number: (f"510/SIUP/{serial(number)}",)}
    assert permits_of(c, number) == [], "a dry run writes nothing"
    assert repair(c) == {number: (f"510/SIUP/{serial(number)}",)}
    [permit] = permits_of(c, number)
    assert permit.issued_at == signed and permit.holder_name == "Siti Rahmawati"
    assert repair(c) == {}, "running it again issues nothing"

    do(c, number, "hand_over_permit", s.HANDOVER)  # the file ends granted: still one permit
    assert len(permits_of(c, number)) == 1
    assert still_working not in repair(c)


def test_a_file_granted_and_handed_over_before_permits_were_issued_gets_them(web_app: Flask, deployed: Container,
                                                                             clock: FixedClock) -> None:
    c = deployed
    with earlier_version(c):
        number = walk(c, [*BEFORE_SIGNING, ("sign_permit", s.SIGN_APPROVE)])
        signed = clock.now()
        clock.advance(days=2)
        do(c, number, "hand_over_permit", s.HANDOVER)
    assert permits_of(c, number) == []
    assert repair(c) == {number: (f"510/SIUP/{serial(number)}",)}
    [permit] = permits_of(c, number)
    assert permit.issued_at == signed


def test_the_command_lists_what_it_issues(web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    c = deployed
    with earlier_version(c):
        number = walk(c, [*BEFORE_SIGNING, ("sign_permit", s.SIGN_APPROVE)])
    runner = web_app.test_cli_runner()
    dry = runner.invoke(args=["issue-missing-permits", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{number}: 510/SIUP/{serial(number)}" in dry.output and "1 permit(s) would be issued for 1 file(s)" in dry.output
    done = runner.invoke(args=["issue-missing-permits"])
    assert "1 permit(s) issued for 1 file(s)" in done.output
    assert "no file is missing its permits" in runner.invoke(args=["issue-missing-permits"]).output
    assert isinstance(permits_of(c, number)[0].issued_at, datetime)
