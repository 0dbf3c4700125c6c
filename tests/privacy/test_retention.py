"""Retention: `ptsp retention` removes the documents of files closed longer than the configured
period, keeps their rows and the file's chained history whole, and records the removal in it."""
from __future__ import annotations

import io
from dataclasses import replace

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.clock import FixedClock
from app.container import Container
from app.engine.models import InstanceEvent
from app.files.models import ApplicationFile, Attachment
from app.files.storage import attachment_path, store_upload
from tests.files.intake_helpers import PDF
from tests.permits.test_verification import granted_trade_licence
from tests.web import signed_in


def attach(c: Container, file_id: int, content: bytes) -> Attachment:
    with c.db.unit_of_work() as session:
        return store_upload(session, c.settings.var_dir, c.clock, file_id, FileStorage(io.BytesIO(content), "ktp.pdf"),
                            "ktp", "loket", 1024 * 1024)


def test_documents_of_long_closed_files_are_removed_and_the_chain_records_it(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    deployed.settings = replace(deployed.settings, retention_days=30)
    closed = granted_trade_licence(deployed)  # completed today
    with deployed.db.unit_of_work() as session:
        file = session.get_one(ApplicationFile, closed.file_id)
        number, instance_id = file.file_number, file.instance_id
        from app.files.services import open_file
        running = open_file(session, deployed.runtime, deployed.settings, "trade_licence", "Budi", "loket")
        running_id = running.id
    old = attach(deployed, closed.file_id, PDF + b"ktp-lama")
    shared = attach(deployed, closed.file_id, PDF + b"shared")
    kept = attach(deployed, running_id, PDF + b"shared")  # the same bytes, still needed by a running file
    runner = web_app.test_cli_runner()

    clock.advance(days=29)
    early = runner.invoke(args=["retention"])
    assert early.exit_code == 0 and "removed 0 attachment(s) of 0 file(s)" in early.output
    clock.advance(days=2)
    dry = runner.invoke(args=["retention", "--dry-run"])
    assert "would remove 2 attachment(s) of 1 file(s)" in dry.output
    assert attachment_path(deployed.settings.var_dir, old).exists()
    done = runner.invoke(args=["retention"])
    assert done.exit_code == 0 and "removed 2 attachment(s) of 1 file(s)" in done.output, done.output

    assert not attachment_path(deployed.settings.var_dir, old).exists()
    assert attachment_path(deployed.settings.var_dir, kept).exists()  # shared bytes stay for the running file
    with deployed.db.unit_of_work() as session:
        rows = {a.id: a.removed_at for a in session.scalars(select(Attachment))}
        last = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                               .order_by(InstanceEvent.seq.desc())).first()
    assert rows[old.id] is not None and rows[shared.id] is not None and rows[kept.id] is None
    assert last is not None and (last.kind, last.actor) == ("attachments_removed", "system:retention")
    assert [a["sha256"] for a in last.detail["attachments"]] == [old.sha256, shared.sha256]
    verify = runner.invoke(args=["audit", "verify", "--file", number])
    assert verify.exit_code == 0, verify.output
    assert runner.invoke(args=["retention"]).output.startswith("removed 0 attachment(s)")  # once only
    gone = signed_in(web_app, "teknis").get(f"/files/{number}/attachments/{old.id}")
    assert gone.status_code == 410
