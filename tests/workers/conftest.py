"""The two real backends worker tests run on: the embedded broker with SQLite, and
Redis with PostgreSQL (the production pair)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import worker_broker_url


@pytest.fixture(params=["embedded", "redis"])
def real_backend(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> tuple[str, str]:
    """(database URL, broker URL), empty and migrated."""
    if request.param == "embedded":
        shutil.copy(sqlite_template, tmp_path / "ptsp.sqlite")
        return f"sqlite:///{tmp_path / 'ptsp.sqlite'}", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    broker_url = worker_broker_url()
    import redis

    redis.Redis.from_url(broker_url).flushdb()
    database_url = request.getfixturevalue("committed_postgres")
    return database_url, broker_url
