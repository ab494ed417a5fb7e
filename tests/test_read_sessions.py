"""Read-only transactions: GETs never wait for a writer on SQLite, and cannot write anywhere."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers.tables import Customer
from patron.db import make_read_sessionmaker, read_transaction, transaction, utcnow
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login

# A GET that waited for the write lock would take the 30 s busy timeout.
QUICK = 2.0


def _open_write(engine):
    """A connection holding SQLite's write lock: BEGIN IMMEDIATE and an uncommitted insert."""
    connection = engine.connect()
    connection.begin()
    connection.execute(
        text(
            "INSERT INTO customers (external_id, attributes, created_at, updated_at) "
            "VALUES ('locker', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    )
    return connection


def test_gets_answer_while_another_connection_holds_the_write_lock(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as session:
        auth_service.create_user(session=session, email=EMAIL, password=PASSWORD, now=factories.T0)
        key = auth_service.create_key(session=session, name="t", scopes="read", now=utcnow())[1]
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        headers = {"Authorization": f"Bearer {key}"}
        # Marks the key used, so the GETs below have nothing to write.
        assert client.get("/api/customers", headers=headers).status_code == 200
        locker = _open_write(db.engine)
        try:
            for path, extra in (
                ("/api/customers", headers),
                ("/customers", {}),
                ("/", {}),
                ("/analytics/rfm", {}),
            ):
                started = time.perf_counter()
                answer = client.get(path, headers=extra)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, (path, answer.text[:300])
                assert elapsed < QUICK, (path, elapsed)
            # The uncommitted customer is not seen by the readers' snapshot.
            assert "locker" not in client.get("/customers").text
        finally:
            locker.rollback()
            locker.close()


def test_a_write_in_a_read_only_transaction_fails_at_once(db):
    with pytest.raises(DBAPIError, match=r"read-?only"), read_transaction(db.sessions) as session:
        session.add(Customer(external_id="x", attributes={}, created_at=factories.T0))
        session.flush()
    with transaction(db.sessions) as session:
        assert session.scalar(select(Customer.id)) is None


def test_the_read_only_factory_still_reads_and_leaves_writers_writing(db):
    reads = make_read_sessionmaker(db.engine)
    with transaction(db.sessions) as session:
        t0 = factories.T0
        session.add(Customer(external_id="a", attributes={}, created_at=t0, updated_at=t0))
    for _ in range(3):  # the pool hands the same connections to both kinds, in turn
        with reads() as session, session.begin():
            assert session.scalar(select(Customer.external_id)) == "a"
        with transaction(db.sessions) as session:
            session.execute(text("UPDATE customers SET external_id = external_id"))
