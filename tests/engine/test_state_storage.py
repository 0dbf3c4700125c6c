"""A workflow's state is stored compressed, and files started before that change (and their
open tasks) keep working after the migration."""
from __future__ import annotations

import json
import os
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.container import Container
from app.engine.models import HumanTask, ProcessInstance
from app.files.services import open_file
from app.migrate import upgrade
from tests.conftest import REQUIRE_SERVICES


@pytest.mark.commits
def test_the_state_is_stored_compressed_and_reads_back(deployed: Container) -> None:
    c = deployed
    with c.db.unit_of_work() as session:
        file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "test")
        instance_id = file.instance_id
    with c.db.engine.connect() as conn:
        raw = bytes(conn.execute(text("SELECT state FROM process_instance WHERE id = :i"), {"i": instance_id}).scalar())
    state = zlib.decompress(raw).decode()
    assert json.loads(state)["tasks"] and len(raw) < len(state) / 3
    with c.db.unit_of_work() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and c.runtime.data(instance)["file_number"] == file.file_number
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        assert task.process_id == "building_permit"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if REQUIRE_SERVICES:
            pytest.fail("TEST_DATABASE_URL is required")
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"ptsp_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_instances_stored_before_compression_are_migrated(empty_database: str) -> None:
    upgrade(empty_database, "0005")
    state = json.dumps({"tasks": {"a": {"data": {"file_number": "PBG-2026-000001"}}}, "root": "a"})
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("""INSERT INTO process_definition (id, process_id, name, version, content_hash, source_name,
                             bpmn_xml, user_tasks, deployed_at, deployed_by)
                             VALUES (1, 'building_permit', 'PBG', 1, 'x', 'x.bpmn', '<x/>', '{}', :t, 'test')"""),
                     {"t": "2026-01-05 01:00:00+00:00"})
        conn.execute(text("""INSERT INTO process_instance (id, definition_id, status, state, lock_version, started_at,
                             updated_at, started_by) VALUES (1, 1, 'running', :s, 1, :t, :t, 'test')"""),
                     {"s": state, "t": "2026-01-05 01:00:00+00:00"})
        conn.execute(text("""INSERT INTO human_task (id, instance_id, task_guid, task_name, title, lane, status,
                             created_at) VALUES (1, 1, 'g', 'register_application', 'Registrasi', 'front_office',
                             'open', :t)"""), {"t": "2026-01-05 01:00:00+00:00"})
    engine.dispose()

    upgrade(empty_database)

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        raw = bytes(conn.execute(text("SELECT state FROM process_instance")).scalar())
        assert zlib.decompress(raw).decode() == state
        assert conn.execute(text("SELECT process_id FROM human_task")).scalar() == "building_permit"
    engine.dispose()
    from sqlalchemy.orm import Session

    from app.db import make_engine

    engine = make_engine(empty_database)
    with Session(engine) as session:
        instance = session.get(ProcessInstance, 1)
        assert instance is not None and instance.state == state
    engine.dispose()
