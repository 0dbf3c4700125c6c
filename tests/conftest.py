"""Shared fixtures: a migrated database per backend, a container with an
injected clock and a recording publisher, and deployed processes.

Backends: SQLite always; PostgreSQL when TEST_DATABASE_URL is set. With
PTSP_REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping.
"""
from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import app.models  # noqa: F401  (every table on Base.metadata, for TRUNCATE)
from app.clock import FixedClock
from app.config import ROOT, Settings
from app.container import Container
from app.db import Base
from app.migrate import upgrade
from app.publisher import RecordingPublisher

REQUIRE_SERVICES = os.environ.get("PTSP_REQUIRE_SERVICES") == "1"
# Workers and servers started by tests run on PostgreSQL or temporary SQLite files, outside the
# embedded demo: they refuse the built-in secret key (app/config.py), so tests give them one.
os.environ.setdefault("PTSP_SECRET_KEY", "tests-only-secret-key-not-for-production")


def service_url(name: str) -> str:
    """The URL of a required external service, or skip (locally) / fail (CI)."""
    url = os.environ.get(name)
    if not url:
        message = f"{name} is not set"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message}, and PTSP_REQUIRE_SERVICES=1 says this run needs it")
        pytest.skip(message)
    return url


def xdist_worker_index() -> int:
    """0 for the first (or only) pytest process, n for pytest-xdist's worker ``gw<n>``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def worker_broker_url() -> str:
    """This pytest process's Redis database: TEST_BROKER_URL is a comma-separated list (one per
    xdist worker) or one URL whose database number is counted up per worker, wrapping past 15
    (Redis has 16 databases by default). Tests flush it, so two workers never share one."""
    urls = [u.strip() for u in service_url("TEST_BROKER_URL").split(",") if u.strip()]
    index = xdist_worker_index()
    if len(urls) > 1:
        if index >= len(urls):
            pytest.fail(f"TEST_BROKER_URL lists {len(urls)} Redis URLs for more pytest-xdist workers (gw{index})")
        return urls[index]
    url = urlsplit(urls[0])
    database = (int(url.path.strip("/") or 0) + index) % 16
    return urlunsplit(url._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = make_url(service_url("TEST_DATABASE_URL"))
    name = f"ptsp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is not usable: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def committed_postgres(postgres_url: str) -> Iterator[str]:
    """The PostgreSQL database, empty, for a test whose writes must really commit (other
    processes, threads or connections read them): emptied before and after the test."""
    _truncate_postgres(postgres_url)
    yield postgres_url
    _truncate_postgres(postgres_url)


def _tables_with_rows(url: str) -> list[str]:
    """The tables that hold a committed row (one cheap query over every table)."""
    engine = create_engine(url)
    probe = " UNION ALL ".join(f"(SELECT '{t.name}' FROM \"{t.name}\" LIMIT 1)" for t in Base.metadata.sorted_tables)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(probe))]
    finally:
        engine.dispose()


@contextmanager
def _inside_one_transaction(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every :class:`Database` the test opens on ``url`` works inside one outer transaction on one
    connection; their commits become savepoints (SQLAlchemy's ``join_transaction_mode=
    "create_savepoint"``), and the outer transaction is rolled back after the test, so the next
    test finds the database empty without a TRUNCATE."""
    from app.db import Database, make_engine

    engine = make_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    original_init = Database.__init__

    def joined_init(self: Database, db_url: str, *args: Any, **kwargs: Any) -> None:
        original_init(self, db_url, *args, **kwargs)
        if db_url == url:
            self.engine.dispose()
            self.engine = engine  # so `session.get_bind().engine is db.engine` holds, as in production
            self.dispose = lambda: None  # type: ignore[method-assign]  # the fixture closes the engine
            self.sessions.configure(bind=connection, join_transaction_mode="create_savepoint")

    monkeypatch.setattr(Database, "__init__", joined_init)
    try:
        yield
    finally:
        monkeypatch.setattr(Database, "__init__", original_init)
        if outer.is_active:
            outer.rollback()
        connection.close()
        engine.dispose()
    leftovers = _tables_with_rows(url)
    if leftovers:
        _truncate_postgres(url)
        pytest.fail(f"this test committed rows outside its transaction ({', '.join(leftovers)}): another "
                    "process, thread or connection wrote them; mark it @pytest.mark.commits")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty migrated database. On PostgreSQL the test runs inside one transaction rolled back
    at its end (:func:`_inside_one_transaction`), or, marked ``commits``, on an emptied database."""
    if request.param == "sqlite":
        path = tmp_path / "ptsp.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
    elif request.node.get_closest_marker("commits"):
        yield request.getfixturevalue("committed_postgres")
    else:
        url = request.getfixturevalue("postgres_url")
        with _inside_one_transaction(url, monkeypatch):
            yield url


@pytest.fixture
def clock() -> FixedClock:
    # Monday 5 January 2026, 08:00 in Jakarta.
    return FixedClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var",
                    broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def container(settings: Settings, clock: FixedClock, publisher: RecordingPublisher) -> Iterator[Container]:
    c = Container(settings, clock=clock, publisher=publisher)
    yield c
    c.db.dispose()


@pytest.fixture
def deployed(container: Container) -> Container:
    """A container whose database holds every diagram of processes/."""
    from app.engine.definitions import deploy_directory

    with container.db.unit_of_work() as session:
        outcomes = deploy_directory(session, ROOT / "processes", "test", container.clock, container.forms.names())
    assert all(o.error is None for o in outcomes), outcomes
    return container


@pytest.fixture
def limits_follow_clock(clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The `limits` library's stores (app/ratelimit.py) read ``time.time()``; here they read the test's
    clock instead, so ``clock.advance(...)`` moves the rate-limit windows as it moves deadlines."""
    import types

    import limits.storage.memory
    import limits.storage.redis

    test_time = types.SimpleNamespace(time=lambda: clock.now().timestamp())
    for module in (limits.storage.memory, limits.storage.redis):
        monkeypatch.setattr(module, "time", test_time)
    return clock


@pytest.fixture
def web_app(deployed: Container, limits_follow_clock: FixedClock):  # type: ignore[no-untyped-def]
    """The Flask app on the deployed container, with one officer per lane, a manager,
    a designer and an administrator (password tests.web.DEMO_PASSWORD); its rate limits
    count in memory on the test's clock."""
    from app import create_app

    app = create_app(deployed.settings, clock=deployed.clock, publisher=deployed.publisher)
    app.extensions["ptsp"].db.dispose()
    app.extensions["ptsp"] = deployed  # share the test's container (clock, publisher, database)
    app.config["TESTING"] = True
    with deployed.db.unit_of_work() as session:
        seed_office_users(session)
    return app


OFFICE_USERS = [
    ("loket", "Sri Wahyuni", "officer", ["front_office"]),
    ("verifikator", "Bambang Sutrisno", "officer", ["verifier"]),
    ("verifikator2", "Rina Marlina", "officer", ["verifier"]),
    ("teknis", "Agus Prasetyo", "officer", ["technical_team"]),
    ("kasir", "Dewi Lestari", "officer", ["cashier"]),
    ("kepala", "Ir. Hartono", "officer", ["head", "verifier"]),
    ("manajer", "Retno Wulandari", "manager", []),
    ("perancang", "Yusuf Hidayat", "designer", []),
    ("admin", "Administrator", "admin", []),
]


def seed_office_users(session: Any, users: list[tuple[str, str, str, list[str]]] = OFFICE_USERS) -> None:
    """One officer per lane (two verifiers; the head also verifies), a manager, a
    designer and an administrator, all with the password tests.web.DEMO_PASSWORD."""
    from app.auth.models import User
    from app.auth.services import set_lanes

    for username, name, role, lanes in users:
        user = User(username=username, full_name=name, role=role, password_hash=_demo_password_hash())
        session.add(user)
        set_lanes(user, lanes)


@functools.cache
def _demo_password_hash() -> str:
    """Hashed once per run: scrypt is slow on purpose."""
    from werkzeug.security import generate_password_hash

    from tests.web import DEMO_PASSWORD

    return generate_password_hash(DEMO_PASSWORD, method="scrypt")
