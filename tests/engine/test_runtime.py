"""Starting instances, completing tasks, timers, script errors, concurrency."""
from __future__ import annotations

import hashlib
import json
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event, select

from app.clock import FixedClock
from app.container import Container
from app.engine import final_state, spiff
from app.engine.definitions import deploy_diagram, latest_definition
from app.engine.errors import ConcurrentUpdate, TaskAlreadyDone
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.engine.runtime import FIRE_TIMERS_JOB
from app.engine.timers import fire_due_timers
from app.publisher import RecordingPublisher

FIXTURES = Path(__file__).parent / "fixtures"


def deploy_fixture(c: Container, name: str, content: bytes | None = None) -> None:
    with c.db.unit_of_work() as session:
        deploy_diagram(session, content or (FIXTURES / name).read_bytes(), name, "test", c.clock)


def start(c: Container, process_id: str, data: dict) -> int:
    with c.db.unit_of_work() as session:
        definition = latest_definition(session, process_id)
        assert definition is not None
        return c.runtime.start(session, definition, data, "loket").id


def open_tasks(c: Container, instance_id: int) -> list[HumanTask]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")))


def complete(c: Container, task_id: int, data: dict, actor: str = "verifikator") -> None:
    with c.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        c.runtime.complete(session, task, data, actor)


def instance(c: Container, instance_id: int) -> ProcessInstance:
    with c.db.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row


def data_of(c: Container, instance_id: int) -> dict[str, Any]:
    """The process data, read the way the app reads it: in a session (a finished instance's is
    unpacked with its history)."""
    with c.db.unit_of_work() as session:
        return c.runtime.data(c.runtime.get(session, instance_id))


def history(c: Container, instance_id: int) -> list[str]:
    with c.db.unit_of_work() as session:
        return list(session.scalars(select(InstanceEvent.kind).where(
            InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.id)))


def test_timer_is_stored_scheduled_and_fires_only_when_due(
        container: Container, clock: FixedClock, publisher: RecordingPublisher) -> None:
    deploy_fixture(container, "wait_with_timer.bpmn")
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D"})

    row = instance(container, instance_id)
    assert row.next_timer_at == clock.now() + timedelta(days=3)
    assert [(j.name, j.args, j.eta) for j in publisher.jobs] == [(FIRE_TIMERS_JOB, (instance_id,), row.next_timer_at)]
    [task] = open_tasks(container, instance_id)
    assert (task.title, task.lane) == ("Tunggu pemohon", "front_office")

    clock.advance(days=2, hours=23)
    assert fire_due_timers(container) == 0
    assert instance(container, instance_id).status == "running"

    clock.advance(hours=1, seconds=1)
    assert fire_due_timers(container) == 1
    row = instance(container, instance_id)
    assert (row.status, row.next_timer_at) == ("completed", None)
    assert data_of(container, instance_id)["outcome"] == "expired"
    assert open_tasks(container, instance_id) == []
    with container.db.unit_of_work() as session:
        assert session.get(HumanTask, task.id).status == "cancelled"  # type: ignore[union-attr]
    assert history(container, instance_id) == ["started", "timer_fired", "completed"]


def test_completing_a_task_twice_is_refused(container: Container) -> None:
    deploy_fixture(container, "wait_with_timer.bpmn")
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D"})
    [task] = open_tasks(container, instance_id)
    complete(container, task.id, {"note": "lengkap"})
    assert instance(container, instance_id).status == "completed"
    assert instance(container, instance_id).next_timer_at is None
    with pytest.raises(TaskAlreadyDone):
        complete(container, task.id, {"note": "lagi"})


@pytest.mark.commits
def test_two_officers_completing_at_once_one_wins_and_nothing_is_overwritten(container: Container) -> None:
    deploy_fixture(container, "wait_with_timer.bpmn")
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D"})
    [task] = open_tasks(container, instance_id)

    first, second = container.db.sessions(), container.db.sessions()
    try:
        task_a = first.get(HumanTask, task.id)
        task_b = second.get(HumanTask, task.id)
        assert task_a is not None and task_b is not None
        _ = task_a.instance.state, task_b.instance.state  # both read the same version
        container.runtime.complete(first, task_a, {"by": "a"}, "officer_a")
        first.commit()
        with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
            container.runtime.complete(second, task_b, {"by": "b"}, "officer_b")
        second.rollback()
    finally:
        first.close()
        second.close()
    assert data_of(container, instance_id)["by"] == "a"
    with container.db.unit_of_work() as session:
        assert session.get(HumanTask, task.id).completed_by == "officer_a"  # type: ignore[union-attr]


def test_failing_script_keeps_instance_recoverable(container: Container) -> None:
    deploy_fixture(container, "script_step.bpmn")
    instance_id = start(container, "script_step", {})
    [task] = open_tasks(container, instance_id)
    complete(container, task.id, {"total": 100, "parts": 0})

    row = instance(container, instance_id)
    assert row.status == "error"
    assert "Bagi" in (row.error or "") and "ZeroDivisionError" in (row.error or "")
    assert open_tasks(container, instance_id) == []
    assert history(container, instance_id)[-1] == "error"

    with container.db.unit_of_work() as session:
        container.runtime.retry(session, instance_id, "admin", data={"total": 100, "parts": 4})
    row = instance(container, instance_id)
    assert (row.status, row.error) == ("running", None)
    assert container.runtime.data(row)["share"] == 25
    assert [t.title for t in open_tasks(container, instance_id)] == ["Periksa hasil"]


def test_running_instance_stays_on_its_version(container: Container) -> None:
    deploy_fixture(container, "wait_with_timer.bpmn")
    old_instance = start(container, "wait_with_timer", {"wait_for": "P3D"})
    changed = (FIXTURES / "wait_with_timer.bpmn").read_bytes().replace(
        b'<bpmn:script>outcome = "expired"</bpmn:script>', b'<bpmn:script>outcome = "expired v2"</bpmn:script>')
    deploy_fixture(container, "wait_with_timer.bpmn", changed)
    new_instance = start(container, "wait_with_timer", {"wait_for": "P1D"})

    assert instance(container, old_instance).definition.version == 1
    assert instance(container, new_instance).definition.version == 2
    container.clock.advance(days=4)  # type: ignore[attr-defined]
    assert fire_due_timers(container) == 2
    assert data_of(container, old_instance)["outcome"] == "expired"
    assert data_of(container, new_instance)["outcome"] == "expired v2"


def test_listeners_see_opened_closed_and_finished_in_the_same_transaction(container: Container, clock: FixedClock) -> None:
    seen: list[tuple[list[str], list[tuple[str, str]], bool]] = []

    class Recorder:
        def instance_changed(self, session, change):  # type: ignore[no-untyped-def]
            assert change.instance in session  # same unit of work
            seen.append(([t.task_name for t in change.opened],
                         [(t.task_name, t.status) for t in change.closed], change.finished))

    container.runtime.listeners.append(Recorder())
    deploy_fixture(container, "wait_with_timer.bpmn")
    first = start(container, "wait_with_timer", {"wait_for": "P1D"})
    second = start(container, "wait_with_timer", {"wait_for": "P1D"})
    [task] = open_tasks(container, first)
    complete(container, task.id, {})
    clock.advance(days=2)
    fire_due_timers(container)
    assert seen == [
        (["wait_for_applicant"], [], False),
        (["wait_for_applicant"], [], False),
        ([], [("wait_for_applicant", "completed")], True),
        ([], [("wait_for_applicant", "cancelled")], True),
    ]
    assert instance(container, second).status == "completed"


def test_a_finished_instance_keeps_only_its_final_data(container: Container) -> None:
    """A finished instance never runs again: its state shrinks to the data its last step left,
    which is what every reader of a finished file asks for (permits, the file page)."""
    deploy_fixture(container, "wait_with_timer.bpmn")
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D", "applicant": "Siti Rahmawati",
                                                       "documents": [{"type": "ktp", "pages": 2}]})
    running = instance(container, instance_id)
    whole = len(running.state)
    [task] = open_tasks(container, instance_id)
    complete(container, task.id, {"note": "lengkap"})
    with container.db.unit_of_work() as session:
        row = container.runtime.get(session, instance_id)
        assert row.status == "completed"
        text = final_state.state_text(session, row)
        data = container.runtime.data(row)
    assert "tasks" not in json.loads(text) and len(text) < whole / 5
    assert data["note"] == "lengkap" and data["applicant"] == "Siti Rahmawati"
    assert data["documents"] == [{"type": "ktp", "pages": 2}]


def test_a_finished_instances_data_is_packed_against_its_history(container: Container) -> None:
    """What the steps entered is already in the history: the final data is stored compressed with the
    history's details as its dictionary, much smaller than compressed alone, and reads back whole,
    in a later session (one query of the history) as in the session that finished it (none)."""
    deploy_fixture(container, "wait_with_timer.bpmn")
    documents = [{"type": f"dokumen_{n}", "reference": f"upl-2026-{n:04d}.pdf", "sha256": hashlib.sha256(bytes([n])).hexdigest()}
                 for n in range(8)]
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D", "applicant": "Siti Rahmawati"})
    [task] = open_tasks(container, instance_id)
    statements: list[str] = []

    def counted(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(container.db.engine, "before_cursor_execute", counted)
    try:
        with container.db.unit_of_work() as session:
            task_row = session.get(HumanTask, task.id)
            assert task_row is not None
            container.runtime.complete(session, task_row, {"note": "lengkap", "documents": documents}, "verifikator")
            row = container.runtime.get(session, instance_id)
            packed = row.state
            statements.clear()
            assert container.runtime.data(row)["documents"] == documents
            assert statements == []  # the session that finished it knows its data
        with container.db.unit_of_work() as session:
            row = container.runtime.get(session, instance_id)
            statements.clear()
            data = container.runtime.data(row)
            assert len(statements) == 1 and "instance_event" in statements[0]
            plain = final_state.state_text(session, row)
    finally:
        event.remove(container.db.engine, "before_cursor_execute", counted)
    assert isinstance(packed, bytes) and row.status == "completed"
    assert data["documents"] == documents and data["note"] == "lengkap" and data["applicant"] == "Siti Rahmawati"
    assert len(packed) < len(zlib.compress(plain.encode(), 9)) / 3


def test_a_finished_instance_stored_whole_still_reads(container: Container) -> None:
    """Instances finished before the final-data form keep their whole state and read as before."""
    deploy_fixture(container, "wait_with_timer.bpmn")
    instance_id = start(container, "wait_with_timer", {"wait_for": "P3D"})
    [task] = open_tasks(container, instance_id)
    with container.db.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        workflow = container.runtime._load(row)
        workflow.get_task_from_id(UUID(task.task_guid)).data.update({"note": "lama"})
        workflow.run_task_from_id(UUID(task.task_guid))
        workflow.do_engine_steps()
        row.state, row.status = spiff.dump_state(workflow), "completed"
    assert data_of(container, instance_id)["note"] == "lama"


@pytest.mark.parametrize("kept", [True, False], ids=["kept-workflow", "loaded-state"])
def test_a_timer_come_due_on_another_branch_runs_in_the_step_that_finds_it(
        container: Container, clock: FixedClock, kept: bool) -> None:
    """A timer inside a subprocess is seen due only by the engine's timer refresh after a step (a
    completion re-checks the waiting tasks of its own workflow only): the step runs it at once
    (the second engine pass), whether the workflow was kept or loaded."""
    from app.engine.workflow_cache import WorkflowCache

    container.runtime.workflows = WorkflowCache(256 if kept else 0)
    deploy_fixture(container, "parallel_timer.bpmn")
    on_time, late = start(container, "parallel_timer", {}), start(container, "parallel_timer", {})
    [task] = open_tasks(container, on_time)
    complete(container, task.id, {"reviewed": True})
    assert [t.task_name for t in open_tasks(container, on_time)] == ["approve"]
    assert instance(container, on_time).next_timer_at == clock.now() + timedelta(days=1)
    assert "outcome" not in data_of(container, on_time)

    clock.advance(days=2)  # the objection period of the other file ended; no wake-up has run yet
    [task] = open_tasks(container, late)
    complete(container, task.id, {"reviewed": True})
    assert [t.task_name for t in open_tasks(container, late)] == ["approve"]
    assert instance(container, late).next_timer_at is None
    assert data_of(container, late)["outcome"] == "objection period over"
