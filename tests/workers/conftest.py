"""The two real backends worker tests run on: the embedded broker with SQLite, and
Redis with PostgreSQL (the production pair)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import _truncate_postgres, service_url


@pytest.fixture(params=["embedded", "redis"])
def real_backend(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> tuple[str, str]:
    """(database URL, broker URL), empty and migrated."""
    if request.param == "embedded":
        shutil.copy(sqlite_template, tmp_path / "ptsp.sqlite")
        return f"sqlite:///{tmp_path / 'ptsp.sqlite'}", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    broker_url = service_url("TEST_BROKER_URL")
    import redis

    redis.Redis.from_url(broker_url).flushdb()
    database_url = request.getfixturevalue("postgres_url")
    _truncate_postgres(database_url)
    return database_url, broker_url
