"""A workflow's state is stored compressed, and files started before that change (and their
open tasks) keep working after the migration."""
from __future__ import annotations

import json
import os
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.engine.definitions import deploy_directory
from app.engine.models import HumanTask, InstanceEvent, ProcessInstance
from app.evidence.verify import verify_histories
from app.files.services import open_file
from app.migrate import alembic_config, upgrade
from app.publisher import RecordingPublisher
from tests import samples
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
    from app.db import make_engine

    engine = make_engine(empty_database)
    with Session(engine) as session:
        instance = session.get(ProcessInstance, 1)
        assert instance is not None and instance.state == state
    engine.dispose()


def test_the_history_is_stored_lean_and_its_chain_holds_across_the_migration(
        empty_database: str, tmp_path: Path) -> None:
    """Each event's data compressed (when smaller) and its hashes as 32 bytes; a history written
    before (0018) reads the same after the upgrade and its chain still verifies, and back."""
    upgrade(empty_database)
    c = Container(Settings(database_url=empty_database, var_dir=tmp_path),
                  clock=FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC)),
                  publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "test", c.clock, c.forms.names())
        number = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "test").file_number
    with c.db.unit_of_work() as session:  # a step with a large record (compressed) beside small ones (not)
        task = session.scalars(select(HumanTask).where(HumanTask.status == "open")).one()
        c.runtime.complete(session, task, samples.REGISTRATION, "loket")
    c.db.dispose()

    def stored() -> list[tuple[bytes, bytes]]:
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT detail, row_hash FROM instance_event ORDER BY id")).all()
        engine.dispose()
        return [(json.dumps(d).encode() if isinstance(d, dict) else d.encode() if isinstance(d, str) else bytes(d),
                 h.encode() if isinstance(h, str) else bytes(h)) for d, h in rows]

    def history() -> tuple[bool, int, list[dict[str, object]]]:
        engine = create_engine(empty_database)
        with Session(engine) as session:
            report = verify_histories(session, number)
            details = [e.detail for e in session.scalars(select(InstanceEvent).order_by(InstanceEvent.id))]
        engine.dispose()
        return report.ok, report.links, details

    ok, links, details = history()
    assert ok and links >= 2 and details[-1]["data"]["applicant"] == samples.REGISTRATION["applicant"]
    assert all(len(digest) == 32 for _, digest in stored())  # bytes, not 64 hex characters
    assert stored()[-1][0][:1] == b"\x78" and len(stored()[-1][0]) < len(json.dumps(details[-1])) / 2

    command.downgrade(alembic_config(empty_database), "0018")
    assert all(len(digest) == 64 for _, digest in stored())  # hex text again
    assert all(json.loads(detail) for detail, _ in stored())  # plain JSON again

    upgrade(empty_database)
    assert history() == (ok, links, details)



def _index_names(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {index["name"] for index in sa_inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def test_finished_files_are_packed_by_the_migration_and_unpacked_by_its_downgrade(
        empty_database: str, tmp_path: Path) -> None:
    """0020: a finished file's final data packed against its history, and the worklist's indexes
    over open steps; down to 0019 every finished file reads the same from its plain final data and
    the indexes are as they were; up again, packed again. A running file is left as it is."""
    upgrade(empty_database)
    c = Container(Settings(database_url=empty_database, var_dir=tmp_path),
                  clock=FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC)), publisher=RecordingPublisher())
    with c.db.unit_of_work() as session:
        deploy_directory(session, ROOT / "processes", "test", c.clock, c.forms.names())
        finished = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "test").instance_id
        running = open_file(session, c.runtime, c.settings, "building_permit", "Budi Santoso", "test").instance_id
    for _lane, payload in samples.BUILDING_PERMIT_WALK:
        with c.db.unit_of_work() as session:
            task = session.scalars(select(HumanTask).where(HumanTask.instance_id == finished,
                                                           HumanTask.status == "open")).one()
            c.runtime.complete(session, task, payload, "test")
    c.db.dispose()

    def stored() -> dict[int, bytes]:
        engine = create_engine(empty_database)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, state FROM process_instance")).all()
        engine.dispose()
        return {row_id: bytes(state) for row_id, state in rows}

    def data() -> dict[int, dict[str, object]]:
        with c.db.unit_of_work() as session:
            return {i: c.runtime.data(c.runtime.get(session, i)) for i in (finished, running)}

    before, states = data(), stored()
    assert before[finished]["outcome"] == "granted" and before[finished]["applicant"] == samples.REGISTRATION["applicant"]
    assert states[finished][:1] == b"\x00" and len(states[finished]) < 600  # packed: a few hundred bytes
    assert "ix_human_task_instance_id" not in _index_names(empty_database, "human_task")

    command.downgrade(alembic_config(empty_database), "0019")
    plain = stored()
    assert zlib.decompress(plain[finished]).decode().startswith('{"final_data": ')
    assert plain[running] == states[running]
    assert {"ix_human_task_instance_id", "ix_human_task_open_lane"} <= _index_names(empty_database, "human_task")
    c.db.dispose()
    assert data() == before

    upgrade(empty_database)
    assert stored() == states
    c.db.dispose()
    assert data() == before
    c.db.dispose()
