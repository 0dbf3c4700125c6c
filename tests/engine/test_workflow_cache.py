"""The workflows a process keeps between a file's steps (app/engine/workflow_cache.py): a kept
workflow behaves as the stored state loaded afresh, and is trusted only at the version its own
committed write left; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.clock import FixedClock
from app.container import Container
from app.engine import spiff
from app.engine.definitions import spec_cache
from app.engine.errors import ConcurrentUpdate
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.engine.timers import fire_due_timers
from app.engine.workflow_cache import WorkflowCache
from app.files.models import ApplicationFile
from app.files.services import open_file
from app.worklist.completion import complete_task
from tests import samples
from tests.catalogue import samples as catalogue_samples
from tests.catalogue.walk import add_officers
from tests.engine.test_runtime import complete, deploy_fixture, open_tasks, start
from tests.files.intake_helpers import register
from tests.walking import LANE_OFFICERS, do, open_new, state, user
from tests.web import signed_in

PAYLOADS = {**samples.SAMPLES, **catalogue_samples.SAMPLES, "pbg_signature.json": samples.SIGN_APPROVE}
CATALOGUE_PROCESSES = ["nuisance_permit", "trade_licence", "advertisement_permit", "road_use_permit", "bundle_new_shop"]


@pytest.fixture
def office(deployed: Container) -> Container:
    add_officers(deployed)
    return deployed


@pytest.fixture
def takes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Each time a step asked for a kept workflow: True when it got one, False when it loaded the state."""
    found: list[bool] = []
    original = WorkflowCache.take

    def recording(self: WorkflowCache, instance: ProcessInstance) -> spiff.BpmnWorkflow | None:
        workflow = original(self, instance)
        found.append(workflow is not None)
        return workflow

    monkeypatch.setattr(WorkflowCache, "take", recording)
    yield found


def instance_of(c: Container, number: str) -> ProcessInstance:
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        row = session.get(ProcessInstance, file.instance_id)
        assert row is not None
        _ = row.definition
        return row


def assert_kept_as_stored(c: Container, number: str) -> None:
    """After a committed step: a running file's workflow is kept at the version its row has, it is
    exactly the stored state, and loading that state gives it back (task tree, data, waiting events)."""
    row = instance_of(c, number)
    kept = c.runtime.workflows.peek(row.id)
    if row.status != "running":
        assert kept is None or c.runtime.workflows.version_of(row.id) != row.lock_version
        return
    assert kept is not None and c.runtime.workflows.version_of(row.id) == row.lock_version
    stored = row.state
    assert isinstance(stored, str)
    assert spiff.dump_state(kept) == stored
    parsed = spec_cache.get(row.definition)
    fresh = spiff.load_state(stored, parsed.spec, parsed.subprocess_specs, c.runtime.script_engine)
    assert spiff.dump_state(fresh) == spiff.dump_state(kept)
    assert ({k: t.state for k, t in kept.event_manager.tasks.items()}
            == {k: t.state for k, t in fresh.event_manager.tasks.items()})
    assert kept.script_engine is c.runtime.script_engine


def walk_to_the_end(c: Container, number: str, after_step: Callable[[], None]) -> None:
    """Complete each open step (by name, then the next) with its form's sample until none is left."""
    for _ in range(30):
        steps = sorted(state(c, number).open_tasks, key=lambda t: t.task_name)
        if not steps:
            return
        assert steps[0].form is not None
        do(c, number, steps[0].task_name, PAYLOADS[steps[0].form])
        after_step()
    raise AssertionError(f"{number} did not finish in 30 steps")


def walk_building_permit(c: Container, number: str, after_step: Callable[[], None]) -> None:
    for lane, payload in samples.BUILDING_PERMIT_WALK:
        [task] = [t for t in state(c, number).open_tasks if t.lane == lane]
        do(c, number, task.task_name, payload)
        after_step()


def walk_to_the_resubmission_timer(c: Container, number: str, after_step: Callable[[], None]) -> None:
    for lane, payload in samples.BUILDING_PERMIT_WALK[:2]:  # registered, then found incomplete
        [task] = [t for t in state(c, number).open_tasks if t.lane == lane]
        do(c, number, task.task_name, payload)
        after_step()
    assert isinstance(c.clock, FixedClock)
    c.clock.advance(days=60)  # the applicant never completes the file
    assert fire_due_timers(c) == 1
    after_step()


def outcome(c: Container, number: str) -> tuple[str, str]:
    """The file's status, final data and history (who, what, with which details) as text, its number
    and serial written as placeholders: what two runs of the same walk must agree on."""
    row = instance_of(c, number)
    with c.db.unit_of_work() as session:
        events = [(e.kind, e.task_name, e.actor, e.detail) for e in session.scalars(
            select(InstanceEvent).where(InstanceEvent.instance_id == row.id).order_by(InstanceEvent.seq))]
    text = json.dumps([state(c, number).data, events], sort_keys=True, default=str)
    serial = number.split("-", 1)[1]
    text = text.replace(number, "<number>").replace(serial, "<serial>").replace(serial.replace("-", "/"), "<serial>")
    return row.status, text


WALKS = [("building_permit", walk_building_permit), ("building_permit", walk_to_the_resubmission_timer),
         *[(process, walk_to_the_end) for process in CATALOGUE_PROCESSES]]


@pytest.mark.parametrize(("process_id", "walk"), WALKS, ids=[f"{p}-{w.__name__}" for p, w in WALKS])
def test_a_kept_workflow_is_the_stored_state_after_every_step_and_ends_as_a_loaded_one(
        office: Container, clock: FixedClock, takes: list[bool], process_id: str,
        walk: Callable[[Container, str, Callable[[], None]], None]) -> None:
    started = clock.now()
    office.runtime.workflows = WorkflowCache(0)  # first without keeping anything: every step loads
    plain = open_new(office, process_id)
    walk(office, plain, lambda: None)
    assert takes and not any(takes)

    clock.set(started)
    office.runtime.workflows = WorkflowCache()
    steps = len(takes)
    takes.clear()
    kept = open_new(office, process_id)
    assert_kept_as_stored(office, kept)
    walk(office, kept, lambda: assert_kept_as_stored(office, kept))
    assert takes == [True] * steps  # no step loaded the state

    status, text = outcome(office, kept)
    assert (status, text) == outcome(office, plain)
    assert status in ("completed", "cancelled") or "timer_fired" in text


def test_a_rolled_back_step_keeps_nothing_and_the_next_loads_the_state(
        office: Container, takes: list[bool]) -> None:
    number = open_new(office, "building_permit")
    row = instance_of(office, number)
    task_id = state(office, number).open_tasks[0].id
    assert office.runtime.workflows.version_of(row.id) == row.lock_version

    with pytest.raises(RuntimeError), office.db.unit_of_work() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        office.runtime.complete(session, task, samples.REGISTRATION, "loket")
        raise RuntimeError("the request failed after the step")
    assert office.runtime.workflows.peek(row.id) is None  # taken by the failed step, not put back

    assert takes == [True]
    do(office, number, "register_application", samples.REGISTRATION)
    assert takes == [True, False]  # read from the database
    assert_kept_as_stored(office, number)


def test_a_step_in_a_savepoint_rolled_back_keeps_nothing_though_the_transaction_commits(office: Container) -> None:
    number = open_new(office, "building_permit")
    row = instance_of(office, number)
    task_id = state(office, number).open_tasks[0].id
    with office.db.unit_of_work() as session:
        savepoint = session.begin_nested()
        task = session.get(HumanTask, task_id)
        assert task is not None
        office.runtime.complete(session, task, samples.REGISTRATION, "loket")
        savepoint.rollback()
        assert task.instance.lock_version == row.lock_version  # read again: the step is undone
    assert office.runtime.workflows.peek(row.id) is None
    assert instance_of(office, number).lock_version == row.lock_version
    assert [t.task_name for t in state(office, number).open_tasks] == ["register_application"]


def test_a_step_in_a_savepoint_released_keeps_nothing_when_the_transaction_rolls_back(office: Container) -> None:
    number = open_new(office, "building_permit")
    row = instance_of(office, number)
    task_id = state(office, number).open_tasks[0].id
    with pytest.raises(RuntimeError), office.db.unit_of_work() as session:
        with session.begin_nested():
            task = session.get(HumanTask, task_id)
            assert task is not None
            office.runtime.complete(session, task, samples.REGISTRATION, "loket")
        raise RuntimeError("the request failed after the savepoint")
    assert office.runtime.workflows.peek(row.id) is None


def test_a_write_by_another_process_is_read_from_the_database(
        office: Container, takes: list[bool]) -> None:
    other = Container(office.settings, clock=office.clock, publisher=office.publisher)  # a second web process
    try:
        number = open_new(office, "building_permit")
        do(office, number, "register_application", samples.REGISTRATION)
        row = instance_of(office, number)
        assert office.runtime.workflows.version_of(row.id) == row.lock_version

        [task] = state(other, number).open_tasks
        with other.db.unit_of_work() as session:
            complete_task(session, other.runtime, other.forms, task.id, samples.CHECK_COMPLETE,
                          user(session, LANE_OFFICERS["verifier"]))
        assert instance_of(office, number).lock_version == row.lock_version + 1

        takes.clear()
        do(office, number, "field_survey", samples.SURVEY)  # this process's kept workflow is one version behind
        assert takes == [False]
        assert state(office, number).data["documents_complete"] is True  # the other process's step is there
        assert_kept_as_stored(office, number)
    finally:
        other.db.dispose()


@pytest.mark.commits
def test_two_steps_from_the_same_version_still_conflict_with_a_kept_workflow(
        office: Container, takes: list[bool]) -> None:
    number = open_new(office, "building_permit")
    row = instance_of(office, number)
    [task] = state(office, number).open_tasks
    first, second = office.db.sessions(), office.db.sessions()
    try:
        task_a, task_b = first.get(HumanTask, task.id), second.get(HumanTask, task.id)
        assert task_a is not None and task_b is not None
        _ = task_a.instance.state, task_b.instance.state  # both read the version whose workflow is kept
        office.runtime.complete(first, task_a, {**samples.REGISTRATION, "declared_floors": 1}, "loket")
        first.commit()
        with pytest.raises(ConcurrentUpdate):
            office.runtime.complete(second, task_b, {**samples.REGISTRATION, "declared_floors": 2}, "loket2")
        second.rollback()
    finally:
        first.close()
        second.close()
    assert takes == [True, False]  # the first took the kept workflow; the second loaded its own read
    assert office.runtime.workflows.version_of(row.id) == row.lock_version + 1  # the winner's, once
    assert state(office, number).data["declared_floors"] == 1
    do(office, number, "check_documents", samples.CHECK_COMPLETE)
    assert takes[-1] is True
    assert_kept_as_stored(office, number)


def test_at_most_size_workflows_are_kept_the_least_recently_written_dropped(office: Container) -> None:
    office.runtime.workflows = WorkflowCache(2)
    numbers = [open_new(office, "building_permit", f"Pemohon {n}") for n in range(3)]
    ids = [instance_of(office, n).id for n in numbers]
    assert len(office.runtime.workflows) == 2
    assert [office.runtime.workflows.peek(i) is not None for i in ids] == [False, True, True]
    do(office, numbers[1], "register_application", samples.REGISTRATION)  # written again: newest
    open_new(office, "building_permit", "Pemohon 4")
    assert [office.runtime.workflows.peek(i) is not None for i in ids] == [False, True, False]


def test_a_step_stopped_by_a_failing_script_keeps_nothing(container: Container, takes: list[bool]) -> None:
    deploy_fixture(container, "script_step.bpmn")
    instance_id = start(container, "script_step", {})
    [task] = open_tasks(container, instance_id)
    complete(container, task.id, {"total": 100, "parts": 0})
    with container.db.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None and row.status == "error"
    assert container.runtime.workflows.peek(instance_id) is None

    with container.db.unit_of_work() as session:
        container.runtime.retry(session, instance_id, "admin", data={"total": 100, "parts": 4})
    assert takes == [True, False]  # the failing step took the started workflow; the retry loaded the state
    assert container.runtime.workflows.peek(instance_id) is None  # a retried state is loaded by the next step
    [task] = open_tasks(container, instance_id)
    complete(container, task.id, {})
    assert takes == [True, False, False]
    with container.db.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None and (row.status, container.runtime.data(row)["share"]) == ("completed", 25)


def test_the_intake_completes_its_first_step_with_the_workflow_its_start_wrote(
        web_app: Flask, takes: list[bool]) -> None:
    """Opening a file and completing its registration are one unit of work: the step takes the workflow
    the start wrote in that transaction (no state loaded), and the file goes on as stored."""
    office = web_app.extensions["ptsp"]
    number, _pin, _receipt = register(signed_in(web_app, "loket"))
    assert takes == [True]
    assert_kept_as_stored(office, number)
    assert [t.task_name for t in state(office, number).open_tasks] == ["check_documents"]
    do(office, number, "check_documents", samples.CHECK_COMPLETE)
    assert takes == [True, True]
    assert_kept_as_stored(office, number)


def test_a_step_after_a_savepoint_rolled_back_in_its_transaction_loads_the_state(
        office: Container, takes: list[bool]) -> None:
    """The workflow a rolled-back savepoint wrote is not taken by a later step of the same transaction."""
    with office.db.unit_of_work() as session:
        file = open_file(session, office.runtime, office.settings, "building_permit", "Siti", "loket")
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)).all()
        savepoint = session.begin_nested()
        office.runtime.complete(session, task, samples.REGISTRATION, "loket")
        savepoint.rollback()
        assert task.status == "open"  # read again: the step is undone
        complete_task(session, office.runtime, office.forms, task.id, samples.REGISTRATION, user(session, "loket"))
        number = file.file_number
    assert takes == [True, False]  # the start's workflow inside the savepoint; the state after it
    assert_kept_as_stored(office, number)
    assert [t.task_name for t in state(office, number).open_tasks] == ["check_documents"]
