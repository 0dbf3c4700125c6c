"""Uploads under faults (issue 10, items 9 and 10): officers racing on one task with a photo
get exactly one success and 409s, never a deadlock's 500, and leave no file; a process
killed mid-upload or before its commit leaves no document in var/attachments/, and the
sweep (`ptsp attachments sweep`) clears what it left in the staging area."""
from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.auth.services import set_lanes
from app.config import ROOT
from app.container import Container
from app.files.models import Attachment
from app.files.storage import attachments_dir, staging_dir, sweep_attachments
from tests import samples
from tests.conftest import _demo_password_hash
from tests.walking import open_pbg, open_task, walk
from tests.web import csrf_token, signed_in
from tests.worklist.conftest import browser_form

JPEG = b"\xff\xd8\xff\xe0" + b"foto tampak depan " * 4000 + b"\xff\xd9"


def _documents(var_dir: Path) -> list[str]:
    """Every file under var/attachments/, staged or in place."""
    base = attachments_dir(var_dir)
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()) if base.exists() else []


@pytest.mark.commits
def test_officers_racing_on_one_task_with_a_photo_one_wins_the_others_get_409(web_app: Flask) -> None:
    from app.auth.models import User

    office: Container = web_app.extensions["ptsp"]
    surveyors = ["teknis", "teknis2", "teknis3", "teknis4"]
    with office.db.unit_of_work() as session:
        for name in surveyors[1:]:
            user = User(username=name, full_name=name.title(), role="officer", password_hash=_demo_password_hash())
            session.add(user)
            set_lanes(user, ["technical_team"])
    number = open_pbg(office)
    walk(office, number, [("loket", samples.REGISTRATION), ("verifikator", samples.CHECK_COMPLETE)])
    task_id = open_task(office, number).id
    survey = {k: v for k, v in samples.SURVEY.items() if k != "survey_photos"}
    fields = browser_form(office, "pbg_field_survey.json", survey)
    clients = {name: signed_in(web_app, name) for name in surveyors}
    tokens = {name: csrf_token(client, f"/tasks/{task_id}") for name, client in clients.items()}
    start = threading.Barrier(len(surveyors))
    statuses: dict[str, int] = {}

    def submit(name: str) -> None:
        photo = {"survey_photos/0/caption": f"Tampak depan ({name})",
                 "survey_photos/0": (io.BytesIO(JPEG + name.encode()), f"depan-{name}.jpg")}
        start.wait(timeout=30)
        response = clients[name].post(f"/tasks/{task_id}", data={**fields, **photo, "csrf_token": tokens[name]},
                                      content_type="multipart/form-data")
        statuses[name] = response.status_code

    threads = [threading.Thread(target=submit, args=(name,)) for name in surveyors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses.values()) == [302, 409, 409, 409], statuses
    [winner] = [name for name, status in statuses.items() if status == 302]
    with office.db.unit_of_work() as session:
        [attachment] = session.scalars(select(Attachment)).all()
        assert attachment.uploaded_by == winner
    assert _documents(office.settings.var_dir) == [hashlib.sha256(JPEG + winner.encode()).hexdigest()]


_UPLOADER = r"""
import io, sys, time
from werkzeug.datastructures import FileStorage
from app.config import Settings
from app.container import Container
from app.files.services import open_file
from app.files.storage import store_upload
from app.publisher import RecordingPublisher

mode = sys.argv[1]
c = Container(Settings.from_env(), publisher=RecordingPublisher())


class SlowPdf(io.RawIOBase):
    # 3 x 6 MB of PDF, as an intake with three documents; in "mid-upload" it stops halfway for ever.
    def __init__(self):
        self.sent = 0
    def readable(self):
        return True
    def readinto(self, buffer):
        if mode == "mid-upload" and self.sent >= 3 * 1024 * 1024:
            print("halfway", flush=True)
            time.sleep(3600)
        if self.sent >= 6 * 1024 * 1024:
            return 0
        chunk = (b"%PDF-1.7\n" if self.sent == 0 else b"") + b"KTP " * (len(buffer) // 4)
        chunk = chunk[:len(buffer)]
        buffer[:len(chunk)] = chunk
        self.sent += len(chunk)
        return len(chunk)


with c.db.unit_of_work() as session:
    file = open_file(session, c.runtime, c.settings, "building_permit", "Siti", "loket")
    for n in range(3):
        store_upload(session, c.settings.var_dir, c.clock, file.id, FileStorage(io.BufferedReader(SlowPdf()),
                     f"dokumen-{n}.pdf"), "ktp", "loket", 20 * 1024 * 1024)
    print("stored, not committed", flush=True)
    time.sleep(3600)
"""


def _kill_uploader(settings: Any, mode: str, wait_for: str) -> None:
    env = {**os.environ, "PTSP_DATABASE_URL": settings.database_url, "PTSP_VAR_DIR": str(settings.var_dir),
           "PTSP_BROKER_URL": settings.broker_url}
    proc = subprocess.Popen([sys.executable, "-c", _UPLOADER, mode], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        line = ""
        while time.monotonic() < deadline and wait_for not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the uploader died on its own"
        assert wait_for in line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.commits
def test_a_process_killed_before_its_commit_leaves_no_document_and_the_sweep_clears_the_rest(
        deployed: Container) -> None:
    _kill_uploader(deployed.settings, "before-commit", "stored, not committed")
    var_dir = deployed.settings.var_dir
    in_place = [p for p in attachments_dir(var_dir).iterdir() if p.is_file()]
    assert in_place == [], "complete documents without a record"
    assert len(list(staging_dir(var_dir).iterdir())) == 3  # staged only, to be swept
    with deployed.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
        # Within the grace period the sweep leaves them (a transaction may still be running).
        assert sweep_attachments(session, var_dir, grace=timedelta(hours=1)).removed_staged == 0
    result = _app(deployed).test_cli_runner().invoke(args=["attachments", "sweep", "--grace-seconds", "0"])
    assert result.exit_code == 0, result.output
    assert "3 staged" in result.output
    assert _documents(var_dir) == []


@pytest.mark.commits
def test_a_process_killed_mid_upload_leaves_only_a_partial_staged_file_which_is_swept(deployed: Container) -> None:
    _kill_uploader(deployed.settings, "mid-upload", "halfway")
    var_dir = deployed.settings.var_dir
    assert [p for p in attachments_dir(var_dir).iterdir() if p.is_file()] == []
    partial = list(staging_dir(var_dir).iterdir())
    assert len(partial) == 1 and partial[0].name.startswith(".part-")
    with deployed.db.unit_of_work() as session:
        report = sweep_attachments(session, var_dir, grace=timedelta(0))
    assert report.removed_staged == 1
    assert _documents(var_dir) == []


def test_a_committed_document_left_in_staging_is_promoted_not_removed(deployed: Container) -> None:
    from werkzeug.datastructures import FileStorage

    from app.files.services import open_file
    from app.files.storage import record_staged, stage_upload

    var_dir = deployed.settings.var_dir
    with deployed.db.unit_of_work() as session:
        file = open_file(session, deployed.runtime, deployed.settings, "building_permit", "Siti", "loket")
        staged = stage_upload(var_dir, FileStorage(io.BytesIO(JPEG), "foto.jpg"), 1024 * 1024)
        record_staged(session, deployed.clock, file.id, staged, "foto.jpg", "foto", "loket")
        session.info.pop("attachments_to_promote")  # as if killed between the commit and the rename
    assert _documents(var_dir) == [f"staging/{staged.path.name}"]
    with deployed.db.unit_of_work() as session:
        report = sweep_attachments(session, var_dir, grace=timedelta(0))
    assert (report.promoted, report.removed_staged) == (1, 0)
    assert (attachments_dir(var_dir) / staged.sha256).read_bytes() == JPEG


def _app(c: Container) -> Flask:
    from app import create_app

    app = create_app(c.settings, clock=c.clock, publisher=c.publisher)
    app.extensions["ptsp"].db.dispose()
    app.extensions["ptsp"] = c
    return app
