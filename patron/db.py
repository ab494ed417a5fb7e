"""Database kernel: declarative base, portable column types, engine and session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Patron table."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetime: timestamptz on PostgreSQL, naive UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Patron stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, aware UTC (for adapters and services; pure rules take `now`)."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    # The driver's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Execution option of the read-only bind (see read_only_bind): its transactions never write.
READ_ONLY = "patron_read_only"


def _sqlite_begin(connection) -> None:
    """Start SQLite transactions IMMEDIATE, read-only ones deferred and query-only.

    A deferred transaction that reads and then writes can fail at once with "database is
    locked" when another process wrote in between; waiting for the lock at BEGIN cannot.
    A read-only transaction takes no lock at all: in WAL mode it reads its snapshot while
    a writer works, so it never waits for one; `query_only` makes a write in it fail at once.
    """
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    # Pragma state lives on the DBAPI connection, which the pool shares by both binds.
    if connection.info.get(READ_ONLY, False) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        connection.info[READ_ONLY] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _postgres_begin(connection) -> None:
    """Make the transactions of the read-only bind READ ONLY (a write there fails at once)."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def make_engine(url: str, *, schema: str | None = None, **kwargs) -> Engine:
    """Create an engine for url with Patron's connection settings (schema: PostgreSQL only)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        # Dates (purchase days, cohorts) are computed in UTC whatever the server's zone.
        parsed = make_url(url)
        options = " ".join(
            filter(
                None,
                [
                    "-c timezone=UTC",
                    parsed.query.get("options", ""),
                    f"-c search_path={schema}" if schema else "",
                ],
            )
        )
        parsed = parsed.difference_update_query(["options"])
        engine = create_engine(parsed, connect_args={"options": options}, **kwargs)
        event.listen(engine, "begin", _postgres_begin)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Create the session factory used by services."""
    return sessionmaker(engine, expire_on_commit=False)


def read_only_bind(engine: Engine) -> Engine:
    """The engine's read-only variant: same pool, transactions begin deferred / READ ONLY."""
    return engine.execution_options(**{READ_ONLY: True})


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Create the session factory of read-only use cases (dashboard pages, GET routes)."""
    return sessionmaker(read_only_bind(engine), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run a block in one transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run a block in one read-only transaction (any factory: its bind is made read-only).

    On SQLite it takes no lock, so it neither waits for a writer nor makes one wait. A write
    in it fails at once: "attempt to write a readonly database" (SQLite), "cannot execute ...
    in a read-only transaction" (PostgreSQL).
    """
    bind = factory.kw["bind"]
    with factory(bind=read_only_bind(bind)) as session, session.begin():
        yield session
