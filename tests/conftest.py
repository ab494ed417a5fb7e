"""Shared fixtures: a migrated database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import fastapi.routing
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from patron.config import Settings
from patron.db import make_engine, make_sessionmaker
from patron.migrate import upgrade

pytest_plugins = ["tests.live"]


def _share_route_contexts() -> None:
    """Build each route's FastAPI context once per test process, not once per app.

    The suite builds an app per test from the same module-level routers; FastAPI builds a
    route's context (a pydantic adapter per parameter) on an app's first request, about 0.4 s
    per app. Contexts are keyed by everything that shapes them but the app itself, which only
    provides dependency overrides (Patron uses none). Without that FastAPI internal, no-op.
    """
    context_class = getattr(fastapi.routing, "_EffectiveRouteContext", None)
    build = getattr(context_class, "from_api_route", None)
    if build is None:
        return
    built: dict = {}

    def shared(cls, *, original_route, include_context):
        key = (
            id(original_route),
            id(include_context.included_router),
            include_context.prefix,
            tuple(map(str, include_context.tags)),
            tuple(id(d.dependency) for d in include_context.dependencies),
            include_context.include_in_schema,
            include_context.max_body_size,
        )
        if key not in built:
            built[key] = build(original_route=original_route, include_context=include_context)
        return built[key]

    context_class.from_api_route = classmethod(shared)


_share_route_contexts()

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
    with engine.begin() as conn:
        conn.execute(text(RESET_FUNCTION.format(schema=schema)))
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


RESET_FUNCTION = """
CREATE FUNCTION {schema}.patron_test_reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    item record;
    found_row boolean;
BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR item IN SELECT tablename FROM pg_tables
        WHERE schemaname = '{schema}' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', '{schema}', item.tablename)
            INTO found_row;
        IF found_row THEN
            EXECUTE format('DELETE FROM %I.%I', '{schema}', item.tablename);
        END IF;
    END LOOP;
    FOR item IN SELECT sequencename FROM pg_sequences
        WHERE schemaname = '{schema}' AND last_value IS NOT NULL LOOP
        PERFORM setval(format('%I.%I', '{schema}', item.sequencename), 1, false);
    END LOOP;
END
$$
"""


def _pg_database(schema: str) -> Database:
    """An emptied PostgreSQL database in the session's schema."""
    engine = make_engine(PG_URL, schema=schema)
    # One round trip: DELETE only the tables a test filled (foreign-key triggers off) and reset
    # used sequences; far cheaper than TRUNCATE, which makes new files per relation.
    with engine.begin() as conn:
        conn.execute(text(f"SELECT {schema}.patron_test_reset()"))
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
