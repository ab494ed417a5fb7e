"""The bulk write path: customers created once under concurrent writers, products loaded once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from patron.customers import bulk
from patron.customers.tables import Customer, CustomerStats, Product
from patron.db import transaction
from patron.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_concurrent_writers_create_each_customer_once(db):
    wanted = [[f"c{i:03d}" for i in range(k, 200 + k)] for k in (0, 50, 100, 150)]
    barrier, results, errors = threading.Barrier(len(wanted)), {}, []

    def write(index: int) -> None:
        try:
            with transaction(db.sessions) as session:
                barrier.wait(timeout=10)
                results[index] = bulk.ensure_customers(
                    session=session, external_ids=wanted[index], now=NOW
                )
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(wanted))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(db.sessions) as session:
        stored = dict(session.execute(select(Customer.external_id, Customer.id)).all())
        stats = session.scalar(select(func.count()).select_from(CustomerStats))
    assert len(stored) == 350 and stats == 350
    assert results == {i: {ext: stored[ext] for ext in ids} for i, ids in enumerate(wanted)}


def test_an_external_id_out_of_bounds_is_refused(db):
    with transaction(db.sessions) as session, pytest.raises(InvalidInput, match="1 to 255"):
        bulk.ensure_customers(session=session, external_ids=["ok", "x" * 256], now=NOW)


def test_products_are_loaded_once_and_all_ids_returned(db):
    rows = [
        {"sku": f"s{i}", "name": f"P{i}", "category": "c", "price_cents": 100, "currency": "USD"}
        for i in range(3)
    ]
    with transaction(db.sessions) as session:
        first = bulk.load_products(session=session, products=rows[:2], now=NOW)
    with transaction(db.sessions) as session:
        second = bulk.load_products(session=session, products=rows, now=NOW)
        count = session.scalar(select(func.count()).select_from(Product))
    assert count == 3 and set(second) == {"s0", "s1", "s2"}
    assert {sku: second[sku] for sku in first} == first
