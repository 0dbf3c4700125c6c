"""A real Celery worker (separate process, with its beat) builds a monthly report asked for in a
transaction, and its beat keeps the dashboard's rollups up to date, on both real backends."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import Settings
from app.container import Container
from app.desk.models import FileRollup, MonthlyReport
from app.desk.report import file_name, report_dir, request_report
from app.engine.definitions import deploy_directory
from app.files.services import open_file
from app.publisher import CeleryPublisher
from tests.workers.test_celery_worker import running_worker, wait_for, worker_settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


def test_the_worker_builds_the_report_and_the_beat_rolls_up(running_worker: Settings) -> None:  # noqa: F811
    settings = running_worker
    c = Container(settings, publisher=CeleryPublisher(settings.broker_url))
    try:
        with c.db.unit_of_work() as session:
            deploy_directory(session, settings.processes_dir, "test", c.clock, c.forms.names())
            number = open_file(session, c.runtime, settings, "trade_licence", "Siti Rahmawati", "loket").file_number
            report_id = request_report(session, "2026-01", "manajer", c.clock.now()).id

        def status() -> str | None:
            with c.db.unit_of_work() as session:
                report = session.get_one(MonthlyReport, report_id)
                return report.status if report.status in ("done", "failed") else None

        assert wait_for(status, 90, "the monthly report") == "done"
        for kind in ("pdf", "csv", "xlsx"):
            assert (report_dir(c, report_id) / file_name("2026-01", kind)).stat().st_size > 0

        def rolled_up() -> bool:
            with c.db.unit_of_work() as session:
                return session.scalars(select(FileRollup)).first() is not None

        assert number and wait_for(rolled_up, 90, "the beat's rollup of the new file")
    finally:
        c.db.dispose()
