"""The whole building permit driven from the command line, as an operator would."""
from __future__ import annotations

import json
import re
from pathlib import Path

from app import create_app
from app.config import Settings
from app.publisher import RecordingPublisher
from tests import samples


def test_cli_runs_a_building_permit_from_migration_to_handover(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.sqlite'}", var_dir=tmp_path)
    app = create_app(settings, publisher=RecordingPublisher())
    runner = app.test_cli_runner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(args=list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    run("migrate")
    assert "deployed   building_permit v1" in run("deploy")
    assert "unchanged  building_permit v1" in run("deploy")
    run("seed-demo")
    run("seed-demo")  # again: nothing doubled
    from sqlalchemy import select

    from app.auth.models import User
    from app.sla.services import list_responsibilities
    with app.extensions["ptsp"].db.unit_of_work() as session:
        # Escalations reach someone: the demo manager answers for everything, with an address.
        assert [(r.user, r.process_id, r.lane) for r in list_responsibilities(session)] == [("manajer", None, None)]
        assert session.scalars(select(User.email).where(User.username == "manajer")).one() == "manajer@ptsp.example"
    number = re.search(r"opened (PBG-\d{4}-\d{6})", run("start-file", "--applicant", "Siti Rahmawati",
                                                            "--as", "loket")).group(1)  # type: ignore[union-attr]

    def next_task(user: str, title: str) -> str:
        listing = run("tasks", "--as", user)
        match = re.search(rf"^\s*(\d+)\s+{number}\s+\S+\s+{re.escape(title)}", listing, re.M)
        assert match, listing
        return match.group(1)

    task = next_task("loket", "Registrasi permohonan")
    form = json.loads(run("task-form", task, "--as", "loket"))
    assert form["form"] == "pbg_registration.json"
    assert form["schema"]["properties"]["applicant"]["properties"]["nik"]["pattern"] == "^[0-9]{16}$"

    # Another lane's officer cannot see or complete it; bad data changes nothing.
    assert "not a member" in run("complete-task", task, "--as", "kasir", "--data", "{}", ok=False)
    bad = run("complete-task", task, "--as", "loket", "--data", json.dumps({"applicant": {}}), ok=False)
    assert "nothing was changed" in bad and "building_location" in bad

    path = tmp_path / "registration.json"
    path.write_text(json.dumps(samples.REGISTRATION), "utf-8")
    run("complete-task", task, "--as", "loket", "--data", f"@{path}")

    steps = [
        ("verifikator", "Pemeriksaan kelengkapan berkas", samples.CHECK_COMPLETE),
        ("teknis", "Pemeriksaan lapangan (BAP)", samples.SURVEY),
        ("kasir", "Konfirmasi pembayaran retribusi", samples.PAYMENT),
        ("verifikator", "Penyusunan draf izin", samples.DRAFT),
        ("kepala", "Penandatanganan izin", samples.SIGN_APPROVE),
        ("loket", "Penyerahan izin", samples.HANDOVER),
    ]
    for user, title, data in steps:
        run("complete-task", next_task(user, title), "--as", user, "--data", json.dumps(data))

    report = json.loads(run("file", number, "--json"))
    assert report["status"] == "completed"
    assert report["data"]["outcome"] == "granted"
    assert report["data"]["fee"] == 600_000
    assert [h["kind"] for h in report["history"]].count("task_completed") == 7
    assert "status: completed" in run("file", number)
    app.extensions["ptsp"].db.dispose()
