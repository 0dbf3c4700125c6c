"""The audit log's service: one generic entry per action, in the caller's transaction."""
from __future__ import annotations

from datetime import timedelta

from app.audit.services import entries_for, recent, record
from app.clock import FixedClock
from app.container import Container
from app.engine.definitions import latest_definition


def test_entries_are_recorded_for_tuples_and_rows_and_read_newest_first(deployed: Container, clock: FixedClock) -> None:
    with deployed.db.unit_of_work() as session:
        definition = latest_definition(session, "building_permit")
        assert definition is not None
        record(session, "perancang", "process.deployed", ("process", "building_permit"), {"version": 1}, clock=clock)
        clock.advance(minutes=5)
        row_entry = record(session, "perancang", "definition.viewed", definition, clock=clock)
        clock.advance(minutes=5)
        record(session, "perancang", "form.saved", ("form", "pbg_payment.json"), {"version": 3}, clock=clock)
    assert (row_entry.subject_type, row_entry.subject_id) == ("process_definition", str(definition.id))
    with deployed.db.unit_of_work() as session:
        [entry] = entries_for(session, ("process", "building_permit"))
        assert (entry.actor, entry.action, entry.detail) == ("perancang", "process.deployed", {"version": 1})
        assert entry.at == clock.now() - timedelta(minutes=10)
        assert [e.action for e in recent(session)] == ["form.saved", "definition.viewed", "process.deployed"]
        assert [e.action for e in recent(session, actions=("form.saved",))] == ["form.saved"]


def test_nothing_is_recorded_when_the_unit_of_work_fails(container: Container) -> None:
    try:
        with container.db.unit_of_work() as session:
            record(session, "perancang", "process.deployed", ("process", "x"), clock=container.clock)
            raise RuntimeError("the deploy failed after recording")
    except RuntimeError:
        pass
    with container.db.unit_of_work() as session:
        assert recent(session) == []
