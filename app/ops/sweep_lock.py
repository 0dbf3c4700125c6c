"""One sweep at a time across every host: two beats (or a beat started twice) never double-sweep.

PostgreSQL: a session advisory lock, tried without waiting, held on its own connection for the
sweep and released after. SQLite lives on one host, so a non-blocking lock on a file beside it
does the same. A sweep that finds the lock taken does nothing: the holder is doing the work.
"""
from __future__ import annotations

import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from app.parts import CoreParts

log = logging.getLogger(__name__)


@contextmanager
def sweep_lock(c: CoreParts, name: str) -> Iterator[bool]:
    """Yields True when this process now holds the sweep ``name``, False when another one does."""
    if c.db.engine.dialect.name == "postgresql":
        key = zlib.crc32(f"ptsp.sweep.{name}".encode())
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            try:
                yield _logged(held, name)
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    c.settings.var_dir.mkdir(parents=True, exist_ok=True)
    with (c.settings.var_dir / f"sweep-{name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield _logged(False, name)
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _logged(held: bool, name: str) -> bool:
    if not held:
        log.info("sweep %s skipped: another process is running it", name)
    return held
