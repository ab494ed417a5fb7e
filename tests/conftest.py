"""Shared fixtures: a migrated database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from patron.config import Settings
from patron.db import make_engine, make_sessionmaker
from patron.migrate import upgrade

pytest_plugins = ["tests.live"]

PG_URL = os.environ.get("PATRON_TEST_DATABASE_URL", "")
PG_REASON = "PATRON_TEST_DATABASE_URL is not set: PostgreSQL tests need a server"
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Database:
    """A migrated, empty database for one test."""

    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    schema: str | None = None

    def settings(self, **overrides) -> Settings:
        """Settings that point a Patron process at this database."""
        values = dict(database_url=self.url, secret_key="test-secret-key")
        values.update(overrides)
        return Settings(**values)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_schema() -> str:
    """A PostgreSQL schema for this test process, migrated once (tables emptied per test)."""
    if not PG_URL:
        pytest.skip(PG_REASON)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(PG_URL, schema=schema)
    upgrade(engine)
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _pg_database(schema: str) -> Database:
    """An emptied PostgreSQL database in the session's schema."""
    engine = make_engine(PG_URL, schema=schema)
    with engine.begin() as conn:
        names = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": schema},
            )
            .scalars()
            .all()
        )
        # DELETE with foreign-key triggers off, then sequences back to 1: for tables holding a
        # test's few rows this is far cheaper than TRUNCATE, which makes new files per relation.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in names:
            conn.execute(text(f'DELETE FROM "{name}"'))
        sequences = conn.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": schema}
        ).scalars()
        for sequence in sequences.all():
            conn.execute(text("SELECT setval(:q, 1, false)"), {"q": f'"{schema}"."{sequence}"'})
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    return Database("postgresql", url, engine, make_sessionmaker(engine), schema)


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> Database:
    """A migrated empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        database = _pg_database(request.getfixturevalue("pg_schema"))
    else:
        path = tmp_path / "patron.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        database = Database("sqlite", url, engine, make_sessionmaker(engine))
    yield database
    database.engine.dispose()


@pytest.fixture
def pg_db(request) -> Database:
    """A migrated empty PostgreSQL database (for concurrency tests SQLite's one writer voids)."""
    database = _pg_database(request.getfixturevalue("pg_schema"))
    yield database
    database.engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    """A migrated empty SQLite database (for tests that need only one backend)."""
    path = tmp_path / "patron.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield Database("sqlite", url, engine, make_sessionmaker(engine))
    engine.dispose()
