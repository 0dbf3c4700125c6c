"""A savepoint is part of its transaction: what it wrote rolls back with the transaction, even when it
was the transaction's first write (SQLite's driver otherwise lets a savepoint opened before any other
write start a transaction of its own, committed when the savepoint is released)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.container import Container
from app.engine.definitions import deploy_directory
from app.engine.models import ProcessDefinition
from app.files.models import FileNumberCounter


class Failed(Exception):
    pass


def test_a_released_savepoint_rolls_back_with_its_transaction(container: Container) -> None:
    with pytest.raises(Failed), container.db.unit_of_work() as session:
        session.scalar(select(FileNumberCounter.last).limit(1))  # a read first, as services do
        with session.begin_nested():
            session.add(FileNumberCounter(prefix="SVP", year=2026, last=1))
        raise Failed("the unit of work fails after its savepoint was released")
    with container.db.unit_of_work() as session:
        assert session.get(FileNumberCounter, ("SVP", 2026)) is None


def test_a_savepoint_inside_a_committed_transaction_commits_with_it(container: Container) -> None:
    with container.db.unit_of_work() as session:
        with session.begin_nested():
            session.add(FileNumberCounter(prefix="SVP", year=2026, last=1))
        session.add(FileNumberCounter(prefix="SVQ", year=2026, last=2))
    with container.db.unit_of_work() as session:
        assert [c.last for c in session.scalars(select(FileNumberCounter).where(
            FileNumberCounter.prefix.in_(["SVP", "SVQ"])).order_by(FileNumberCounter.prefix))] == [1, 2]


def test_a_deployment_that_fails_afterwards_leaves_no_definition(container: Container) -> None:
    """Deploying takes a savepoint per diagram: a failure later in the same unit of work deploys nothing."""
    with pytest.raises(Failed), container.db.unit_of_work() as session:
        outcomes = deploy_directory(session, ROOT / "processes", "test", container.clock, container.forms.names())
        assert any(o.error is None for o in outcomes)
        raise Failed("the release step after the deployment failed")
    with container.db.unit_of_work() as session:
        assert session.scalars(select(ProcessDefinition)).all() == []
