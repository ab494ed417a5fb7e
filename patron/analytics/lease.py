"""One refresh at a time: a lease a second refresh finds taken, whatever process runs it.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a key derived from the
schema, held on one pooled connection for the whole refresh; the server releases it if that
connection dies. SQLite (one machine by nature): an exclusive ``flock`` on a lock file beside
the database file, released by the kernel if the process dies, so a crashed refresh never leaves
a stale lease behind (a lease row would need an expiry and a migration); in-memory databases,
which only one process can see, use a lock of this process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from patron.errors import Conflict

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process lock only
    fcntl = None

_KEY = "hashtext('patron.analytics.refresh:' || current_schema())"
_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


class RefreshRunning(Conflict):
    """Another refresh holds the lease."""

    def __init__(self) -> None:
        super().__init__("a refresh is already running; try again when it has finished")


@contextmanager
def refresh_lease(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Hold the refresh lease for the block, or raise RefreshRunning at once."""
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine):
            yield
    else:
        with _file_lock(engine.url.database):
            yield


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    """A PostgreSQL advisory lock held by one connection outside any open transaction."""
    with engine.connect() as connection:
        taken = connection.scalar(text(f"SELECT pg_try_advisory_lock({_KEY})"))
        connection.commit()
        if not taken:
            raise RefreshRunning()
        try:
            yield
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({_KEY})"))
            connection.commit()


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    """An exclusive, non-blocking flock on `<database>-refresh.lock`."""
    if not database or database == ":memory:" or fcntl is None:
        with _local_lock(database or ":memory:"):
            yield
        return
    with open(f"{database}-refresh.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshRunning() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _local_lock(name: str) -> Iterator[None]:
    """A lock of this process, for databases no other process can open."""
    with _LOCAL_GUARD:
        lock = _LOCAL.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        raise RefreshRunning()
    try:
        yield
    finally:
        lock.release()
