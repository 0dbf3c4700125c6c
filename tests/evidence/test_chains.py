"""The hash chains: a file's history and the audit log. Rows edited, deleted, reordered or inserted
directly in the database are named by `ptsp audit verify`; a rewrite of a whole chain is caught by
the signed anchors; a break is told to administrators and shows on /healthz."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from app.audit.models import AuditEntry
from app.audit.services import record
from app.chain import history_content, link_hash
from app.container import Container
from app.engine.models import InstanceEvent, ProcessInstance
from app.evidence.anchors import write_anchor
from app.evidence.keys import office_identity
from app.evidence.services import check_integrity, run_daily
from app.notify.models import Notice
from tests.catalogue import samples as s
from tests.walking import do, open_new


def file_with_history(c: Container) -> tuple[str, int]:
    """A trade licence file walked through three steps: (file number, instance id)."""
    number = open_new(c, "trade_licence")
    do(c, number, "register_application", s.SIUP_REGISTRATION)
    do(c, number, "check_documents", s.SIUP_CHECK)
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    with c.db.unit_of_work() as session:
        from app.files.models import ApplicationFile
        instance_id = session.scalar(select(ApplicationFile.instance_id).where(ApplicationFile.file_number == number))
    assert instance_id is not None
    return number, instance_id


def audit_entries(c: Container, n: int = 4) -> None:
    with c.db.unit_of_work() as session:
        for i in range(n):
            record(session, "perancang", "form.saved", ("form", f"f{i}.json"), {"version": i}, clock=c.clock)
            c.clock.advance(minutes=1)  # type: ignore[attr-defined]


def events(c: Container, instance_id: int) -> list[InstanceEvent]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                    .order_by(InstanceEvent.seq)))


def sql(c: Container, statement: str, **params: object) -> None:
    """What a database administrator could do behind the application's back."""
    with c.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def verify(c: Container, file_number: str | None = None) -> list[str]:
    with c.db.unit_of_work() as session:
        report = check_integrity(session, c.settings, office_identity(c.settings), file_number)
    return [str(b) for b in report.breaks]


@pytest.fixture
def walked(web_app: Flask, deployed: Container) -> tuple[Container, str, int]:
    number, instance_id = file_with_history(deployed)
    audit_entries(deployed)
    return deployed, number, instance_id


def test_untouched_chains_verify_and_count_every_link(walked: tuple[Container, str, int]) -> None:
    c, number, instance_id = walked
    rows = events(c, instance_id)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 4
    assert rows[0].prev_hash == "0" * 64 and all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    with c.db.unit_of_work() as session:
        head = session.get_one(ProcessInstance, instance_id)
        assert (head.history_seq, head.history_head) == (rows[-1].seq, rows[-1].row_hash)
        report = check_integrity(session, c.settings, office_identity(c.settings))
        audit_links = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    assert report.ok and report.links == len(rows) + audit_links
    assert verify(c, number) == []


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_tail", "reorder", "insert"])
@pytest.mark.commits
def test_a_file_history_changed_in_the_database_is_named(walked: tuple[Container, str, int], tamper: str) -> None:
    c, number, instance_id = walked
    rows = events(c, instance_id)
    second, third = rows[1], rows[2]
    if tamper == "edit":
        sql(c, "UPDATE instance_event SET actor = 'someone_else' WHERE id = :id", id=second.id)
        expected = f"file {number}: instance_event {second.id} (seq 2): expected row_hash {second.row_hash}, found "
    elif tamper == "delete_middle":
        sql(c, "DELETE FROM instance_event WHERE id = :id", id=second.id)
        expected = f"file {number}: instance_event {third.id} (seq 3): expected seq 2, found seq 3 (a deleted row"
    elif tamper == "delete_tail":
        sql(c, "DELETE FROM instance_event WHERE id = :id", id=rows[-1].id)
        expected = f"file {number}: head (seq {rows[-1].seq}): expected last link seq {rows[-1].seq}"
    elif tamper == "reorder":  # swap the order of two steps (their seq numbers)
        sql(c, "UPDATE instance_event SET seq = -1 WHERE id = :id", id=second.id)
        sql(c, "UPDATE instance_event SET seq = 2 WHERE id = :id", id=third.id)
        sql(c, "UPDATE instance_event SET seq = 3 WHERE id = :id", id=second.id)
        expected = f"file {number}: instance_event {third.id} (seq 2): expected prev_hash {rows[0].row_hash}, found"
    else:  # a forged step slipped in after the first, later ones renumbered
        for row in reversed(rows[1:]):
            sql(c, "UPDATE instance_event SET seq = :seq WHERE id = :id", seq=row.seq + 1, id=row.id)
        sql(c, "INSERT INTO instance_event (instance_id, at, kind, task_name, actor, detail, seq, prev_hash, row_hash) "
               "VALUES (:i, :at, 'task_completed', 'check_documents', 'forger', '{}', 2, :prev, :h)",
            i=instance_id, at=rows[0].at, prev=bytes.fromhex(rows[0].row_hash), h=b"\xff" * 32)  # hashes are 32 bytes
        forged_id = max(r.id for r in events(c, instance_id))
        expected = f"file {number}: instance_event {forged_id} (seq 2): expected row_hash {'f' * 64}, found"
    [only] = verify(c, number)
    assert only.startswith(expected), only
    assert verify(c) == [only]  # the whole check names the same first break


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_tail", "reorder", "insert"])
@pytest.mark.commits
def test_an_audit_log_changed_in_the_database_is_named(walked: tuple[Container, str, int], tamper: str) -> None:
    c, _, _ = walked
    with c.db.unit_of_work() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    one, two = rows[1], rows[2]
    if tamper == "edit":
        sql(c, "UPDATE audit_entry SET detail = '{\"version\": 99}' WHERE id = :id", id=one.id)
        expected = f"audit: audit_entry {one.id} (seq {one.seq}): expected row_hash {one.row_hash}, found"
    elif tamper == "delete_middle":
        sql(c, "DELETE FROM audit_entry WHERE id = :id", id=one.id)
        expected = f"audit: audit_entry {two.id} (seq {two.seq}): expected seq {one.seq}, found seq {two.seq}"
    elif tamper == "delete_tail":
        sql(c, "DELETE FROM audit_entry WHERE id = :id", id=rows[-1].id)
        expected = f"audit: head (seq {rows[-1].seq}): expected last link seq {rows[-1].seq}"
    elif tamper == "reorder":
        sql(c, "UPDATE audit_entry SET seq = -1 WHERE id = :id", id=one.id)
        sql(c, "UPDATE audit_entry SET seq = :s WHERE id = :id", s=one.seq, id=two.id)
        sql(c, "UPDATE audit_entry SET seq = :s WHERE id = :id", s=two.seq, id=one.id)
        expected = f"audit: audit_entry {two.id} (seq {one.seq}): expected prev_hash {rows[0].row_hash}, found"
    else:
        sql(c, "INSERT INTO audit_entry (at, actor, action, subject_type, subject_id, detail, seq, prev_hash, row_hash) "
               "VALUES (:at, 'forger', 'form.saved', 'form', 'x', '{}', :seq, :prev, :h)",
            at=rows[-1].at, seq=rows[-1].seq + 1, prev=rows[-1].row_hash, h="e" * 64)
        expected = f"audit: audit_entry {rows[-1].id + 1} (seq {rows[-1].seq + 1}): expected row_hash {'e' * 64}"
    [only] = verify(c)
    assert only.startswith(expected), only


@pytest.mark.commits
def test_a_rewritten_whole_chain_is_caught_by_the_signed_anchor(walked: tuple[Container, str, int]) -> None:
    c, number, instance_id = walked
    with c.db.unit_of_work() as session:
        path = write_anchor(session, c.settings, office_identity(c.settings), c.clock.now())
    assert verify(c) == []
    # Rewrite the history consistently: every hash recomputed, the head moved too.
    prev = "0" * 64
    for row in events(c, instance_id):
        row.actor = "someone_else" if row.seq == 2 else row.actor
        row.prev_hash = prev
        row.row_hash = link_hash(prev, history_content(row))
        sql(c, "UPDATE instance_event SET actor = :a, prev_hash = :p, row_hash = :h WHERE id = :id",
            a=row.actor, p=bytes.fromhex(row.prev_hash), h=bytes.fromhex(row.row_hash), id=row.id)  # stored as bytes
        prev = row.row_hash
    sql(c, "UPDATE process_instance SET history_head = :h WHERE id = :id", h=prev, id=instance_id)
    assert verify(c, number) == []  # the chain alone looks fine ...
    [caught] = verify(c)  # ... but not against what was published
    assert caught.startswith(f"anchor {path.name}: file {number}: instance_event seq ") and "rewritten" in caught


def test_an_edited_or_removed_anchor_is_caught(walked: tuple[Container, str, int]) -> None:
    c, _, _ = walked
    identity = office_identity(c.settings)
    with c.db.unit_of_work() as session:
        first = write_anchor(session, c.settings, identity, c.clock.now())
        c.clock.advance(days=1)  # type: ignore[attr-defined]
        second = write_anchor(session, c.settings, identity, c.clock.now())
    assert first != second and verify(c) == []
    first.write_bytes(first.read_bytes().replace(b'"seq": ', b'"seq":  '))
    problems = verify(c)
    assert problems[0] == (f"anchor {first.name}: signature: expected a signature by the office key, "
                           "found none, or one that does not verify")
    first.unlink()
    Path(f"{first}.sig").unlink()
    [removed] = verify(c)
    assert removed.startswith(f"anchor {second.name}: previous_anchor_sha256: expected None, found ")


@pytest.mark.commits
def test_the_daily_run_records_the_check_tells_administrators_and_healthz_degrades(
        walked: tuple[Container, str, int], web_app: Flask) -> None:
    c, number, instance_id = walked
    with c.db.unit_of_work() as session:
        assert run_daily(session, c.settings, office_identity(c.settings), c.clock.now()).ok
    health = web_app.test_client().get("/healthz").get_json()
    assert health["integrity"]["ok"] is True
    assert (c.settings.var_dir / "anchors" / "2026-01-05.json").exists()

    rows = events(c, instance_id)
    sql(c, "UPDATE instance_event SET task_name = 'skipped' WHERE id = :id", id=rows[2].id)
    with c.db.unit_of_work() as session:
        assert not run_daily(session, c.settings, office_identity(c.settings), c.clock.now()).ok
        notices = list(session.scalars(select(Notice).where(Notice.level == "integrity")))
        assert [n.recipient.username for n in notices] == ["admin"]
    assert notices[0].detail["file_number"] == number and "row content changed" in notices[0].detail["problem"]
    response = web_app.test_client().get("/healthz")
    health = response.get_json()
    assert response.status_code == 503 and health["status"] == "degraded"
    assert health["integrity"]["ok"] is False and f"file {number}" in health["integrity"]["problem"]


@pytest.mark.commits
def test_cli_audit_verify_exits_non_zero_and_names_the_break(walked: tuple[Container, str, int], web_app: Flask) -> None:
    c, number, instance_id = walked
    runner = web_app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", "--file", number])
    assert ok.exit_code == 0 and f"file {number}: ok" in ok.output
    rows = events(c, instance_id)
    sql(c, "DELETE FROM instance_event WHERE id = :id", id=rows[1].id)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN  file {number}: instance_event {rows[2].id} (seq 3): expected seq 2" in broken.output
    unknown = runner.invoke(args=["audit", "verify", "--file", "NOPE-1"])
    assert unknown.exit_code == 2 and "no file 'NOPE-1'" in unknown.output
