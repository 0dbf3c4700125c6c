"""The repository stays the source of truth: `ptsp export-definitions` writes what runs
back to processes/ and forms/, `ptsp deploy` refuses what the designer refuses, and a
version deployed from the browser survives restarts (which run `ptsp deploy` again)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import create_app
from app.config import ROOT, Settings
from app.designer import services
from app.engine.definitions import latest_definition
from app.engine.models import ProcessDefinition
from app.forms.builder import save_form
from app.publisher import RecordingPublisher
from tests.designer.test_migration import building_permit_v2

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def workspace(tmp_path: Path, database_url: str) -> Any:
    """An app whose processes/ and forms/ are copies in tmp_path, and its CLI runner."""
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir()
    shutil.copy(ROOT / "processes" / "building_permit.bpmn", processes)
    shutil.copytree(ROOT / "forms", forms)
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var", processes_dir=processes, forms_dir=forms,
                        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    app = create_app(settings, publisher=RecordingPublisher())
    runner = app.test_cli_runner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(args=list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    yield app, run, processes, forms
    app.extensions["ptsp"].db.dispose()


def test_export_writes_the_latest_versions_and_saved_forms_back(workspace: Any) -> None:
    app, run, processes, forms = workspace
    c = app.extensions["ptsp"]
    assert "deployed   building_permit v1" in run("deploy")
    with c.db.unit_of_work() as session:
        services.deploy_from_designer(session, building_permit_v2().encode(), "perancang", c.clock, c.forms)
        schema = json.loads((forms / "pbg_payment.json").read_text("utf-8"))
        schema["title"] = "Konfirmasi pembayaran (diubah)"
        save_form(session, c.forms, "pbg_payment.json", json.dumps(schema, indent=2), "perancang", c.clock)
        save_form(session, c.forms, "pbg_review.json", '{"type": "object", "properties": {}}', "perancang", c.clock,
                  new=True)

    output = run("export-definitions")
    assert f"written    {processes / 'building_permit.bpmn'}  (building_permit v2)" in output
    assert (processes / "building_permit.bpmn").read_text("utf-8") == building_permit_v2()
    assert json.loads((forms / "pbg_payment.json").read_text("utf-8"))["title"] == "Konfirmasi pembayaran (diubah)"
    assert (forms / "pbg_review.json").read_text("utf-8") == '{"type": "object", "properties": {}}\n'
    assert not [p for p in processes.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    assert "written" not in run("export-definitions")  # a second export has nothing to write

    # The exported file is what runs: deploying it changes nothing.
    assert "unchanged  building_permit v2" in run("deploy")


def test_a_browser_deployed_version_survives_a_restart_that_deploys_processes_again(workspace: Any,
                                                                                    database_url: str) -> None:
    app, run, processes, _ = workspace
    c = app.extensions["ptsp"]
    run("deploy")
    with c.db.unit_of_work() as session:
        services.deploy_from_designer(session, building_permit_v2().encode(), "perancang", c.clock, c.forms)

    # A restart: a new app on the same database runs `ptsp deploy` with processes/ still at v1.
    restarted = create_app(Settings(database_url=database_url, var_dir=processes.parent / "var",
                                    processes_dir=processes, forms_dir=c.settings.forms_dir,
                                    broker_url=c.settings.broker_url), publisher=RecordingPublisher())
    try:
        result = restarted.test_cli_runner().invoke(args=["deploy"])
        assert result.exit_code == 0, result.output
        assert "unchanged  building_permit v2" in result.output and "same as version 1" in result.output
        with restarted.extensions["ptsp"].db.unit_of_work() as session:
            latest = latest_definition(session, "building_permit")
            assert latest is not None and (latest.version, latest.deployed_by) == (2, "perancang")
            assert "review_draft" in latest.user_tasks
    finally:
        restarted.extensions["ptsp"].db.dispose()

    # An edited file in processes/ is a new version, as before.
    path = processes / "building_permit.bpmn"
    path.write_text(path.read_text("utf-8").replace('name="Penyerahan izin"', 'name="Penyerahan izin PBG"'), "utf-8")
    assert "deployed   building_permit v3" in run("deploy")


def test_ptsp_deploy_refuses_what_the_designer_refuses(workspace: Any) -> None:
    app, run, processes, _ = workspace
    shutil.copy(CORPUS / "broken" / "unknown_lane.bpmn", processes)
    shutil.copy(CORPUS / "valid" / "spiffarena.bpmn", processes)
    output = run("deploy", ok=False)
    assert "FAILED" in output and "unknown_lane.bpmn" in output and "kasir_loket" in output
    assert "deployed   Process_micro_business_x7k2p9q v1" in output
    with app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.scalars(select(ProcessDefinition.process_id).where(
            ProcessDefinition.process_id == "unknown_lane")).first() is None


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bpmn"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("app.designer.services.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        services.write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bpmn"]
