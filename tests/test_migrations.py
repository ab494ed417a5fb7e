"""Migrations build the whole schema from empty, with no drift from the table models."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from patron.db import make_engine
from patron.migrate import drift, upgrade
from patron.schema import metadata
from tests.conftest import PG_REASON, PG_URL


def _assert_complete(engine) -> None:
    """Every model table exists and nothing differs from the models."""
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert drift(engine, metadata) == []


def test_sqlite_upgrade_from_empty_has_no_drift(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    _assert_complete(engine)
    upgrade(engine)  # a second run is a no-op
    engine.dispose()


def test_postgresql_upgrade_from_empty_has_no_drift():
    if not PG_URL:
        pytest.skip(PG_REASON)
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        engine = make_engine(PG_URL, schema=schema)
        upgrade(engine)
        _assert_complete(engine)
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
