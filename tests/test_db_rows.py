"""db.insert_rows and db.update_rows: the plain-statement writes of a step's rows behave as a flush
of those rows would (ids, defaults, the version check, nothing left for the next flush)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm.exc import StaleDataError

from app.container import Container
from app.db import insert_rows, update_rows
from app.engine.models import HumanTask, ProcessInstance, TaskStatus
from app.files.services import open_file


def _open(c: Container) -> int:
    with c.db.unit_of_work() as session:
        return open_file(session, c.runtime, c.settings, "building_permit", "Siti", "loket").instance_id or 0


def test_inserted_rows_are_persistent_with_their_ids_and_defaults(deployed: Container) -> None:
    instance_id = _open(deployed)
    now = deployed.clock.now()
    with deployed.db.unit_of_work() as session:
        rows = [HumanTask(instance_id=instance_id, task_guid=f"guid-{n}", task_name="extra", process_id="building_permit",
                          title="Extra", lane="verifier", status=TaskStatus.OPEN, created_at=now) for n in range(2)]
        insert_rows(session, rows)
        assert all(row.id is not None and row in session and not session.dirty for row in rows)
        assert [row.rolled_up for row in rows] == [False, False]  # the column's Python default
        assert rows[0].id != rows[1].id
    with deployed.db.unit_of_work() as session:
        stored = session.scalars(select(HumanTask).where(HumanTask.task_name == "extra").order_by(HumanTask.id)).all()
        assert [(t.id, t.task_guid, t.rolled_up, t.due_at) for t in stored] == [
            (rows[0].id, "guid-0", False, None), (rows[1].id, "guid-1", False, None)]


def test_updated_rows_bump_their_version_and_leave_nothing_to_flush(deployed: Container) -> None:
    instance_id = _open(deployed)
    statements: list[str] = []
    with deployed.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        version = instance.lock_version
        instance.error = "x"
        instance.status = instance.status  # unchanged: not written
        event.listen(session.connection(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        update_rows(session, [instance])
        assert instance.lock_version == version + 1 and not session.is_modified(instance)  # no net change left
        # Clean, not only unchanged: the unit of work does not run at the next flush (nor at the
        # autoflush of every query after it, nor at the commit).
        flushes: list[int] = []
        event.listen(session, "before_flush", lambda *_: flushes.append(1))
        assert instance not in session.dirty
        session.flush()
        assert flushes == []
    writes = [s for s in statements if s.startswith(("UPDATE", "INSERT", "DELETE"))]  # not the tests' savepoints
    assert len(writes) == 1, statements
    assert "error" in writes[0] and "status" not in writes[0].split("WHERE")[0]
    with deployed.db.unit_of_work() as session:
        stored = session.get(ProcessInstance, instance_id)
        assert stored is not None and (stored.error, stored.lock_version) == ("x", version + 1)


def test_a_stale_version_is_refused_as_a_flush_refuses_it(deployed: Container) -> None:
    instance_id = _open(deployed)
    with deployed.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        instance.lock_version  # noqa: B018 - loaded before someone else's write
        with deployed.db.unit_of_work() as other:
            theirs = other.get(ProcessInstance, instance_id)
            assert theirs is not None
            theirs.error = "theirs"
        instance.error = "mine"
        with pytest.raises(StaleDataError):
            update_rows(session, [instance])
        session.rollback()


def test_rows_updated_in_a_savepoint_rolled_back_are_read_again(deployed: Container) -> None:
    instance_id = _open(deployed)
    with deployed.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        version = instance.lock_version
        savepoint = session.begin_nested()
        instance.error = "undone"
        update_rows(session, [instance])
        assert (instance.error, instance.lock_version) == ("undone", version + 1)
        savepoint.rollback()
        # As after a flush in the savepoint: the row is expired and read again as the database has it.
        assert (instance.error, instance.lock_version) == (None, version)
