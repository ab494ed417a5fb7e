"""Concurrent writers of one order on PostgreSQL: no lost refund, no multiplied lines (issue 8).

Real threads, each with its own session and transaction, start together at a barrier.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service
from patron.customers.rules import LineInput, OrderInput
from patron.customers.tables import Order, OrderLine
from patron.db import transaction, utcnow
from patron.tracking import rules as tracking_rules
from patron.tracking import service as tracking
from tests import factories
from tests.factories import at

WRITERS = 20


def _together(count: int, work) -> list:
    """Run work(i) in count threads released at once; their results (or exceptions)."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # kept and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _order_state(db, external_id: str) -> tuple[Order, list[OrderLine]]:
    """The stored order and its lines."""
    with transaction(db.sessions) as session:
        order = session.scalar(select(Order).where(Order.external_id == external_id))
        lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
        session.expunge_all()
        return order, lines


def test_concurrent_refunds_through_the_api_lose_no_update(pg_db):
    total = WRITERS // 2
    with transaction(pg_db.sessions) as session:
        factories.customer(session, "c1")
        factories.order(session, "o1", total=total, status="paid")
        key = auth_service.create_key(session=session, name="t", scopes="write", now=utcnow())[1]
    app = create_app(pg_db.settings(), engine=pg_db.engine)

    def refund(_i: int) -> int:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.post(
                "/api/orders/o1/refund",
                json={"amount_cents": 1},
                headers={"Authorization": f"Bearer {key}"},
            )
            return answer.status_code

    statuses = Counter(_together(WRITERS, refund))
    order, _ = _order_state(pg_db, "o1")
    assert statuses == {200: total, 422: WRITERS - total}
    assert order.refunded_cents == total
    assert order.status == "refunded"


def test_concurrent_refunds_and_a_cancel_through_the_service(pg_db):
    with transaction(pg_db.sessions) as session:
        factories.customer(session, "c1")
        factories.order(session, "o1", total=1000, status="paid")

    def refund(i: int):
        with transaction(pg_db.sessions) as session:
            if i == 0:
                return service.cancel_order(session=session, external_id="o1", now=at(1)).status
            row = service.refund_order(session=session, external_id="o1", amount_cents=7, now=at(1))
            return row.refunded_cents

    results = _together(WRITERS, refund)
    assert not [r for r in results if isinstance(r, Exception)]
    order, _ = _order_state(pg_db, "o1")
    assert order.refunded_cents == 7 * (WRITERS - 1)
    assert order.status == "cancelled"


def _completed(order_id: str, sku: str, price: float, quantity: int) -> dict:
    """An `Order Completed` track message with one line and no total (the lines' sum)."""
    return {
        "type": "track",
        "userId": "u1",
        "event": "Order Completed",
        "messageId": str(uuid.uuid4()),
        "properties": {
            "order_id": order_id,
            "currency": "USD",
            "products": [{"sku": sku, "price": price, "quantity": quantity}],
        },
    }


def _ingest_one_line_batches(db, order_id: str) -> list:
    """WRITERS concurrent tracking batches, each completing the order with one line."""
    gate = tracking.writer_gate(db.engine)

    def send(i: int) -> int:
        body = {"batch": [_completed(order_id, f"sku-{i}", 1 + i, 1 + i % 3)]}
        messages = tracking_rules.batch(
            body, body_size=1000, received_at=utcnow(), new_id=lambda: str(uuid.uuid4())
        )
        return tracking.ingest(factory=db.sessions, messages=messages, now=utcnow(), gate=gate)

    return _together(WRITERS, send)


def _assert_one_writers_lines(db, order_id: str) -> None:
    """The order holds exactly one batch's line, and its total is that line's amount."""
    order, lines = _order_state(db, order_id)
    assert len(lines) == 1, [(line.sku, line.total_cents) for line in lines]
    (line,) = lines
    i = int(line.sku.removeprefix("sku-"))
    assert (line.quantity, line.unit_price_cents) == (1 + i % 3, (1 + i) * 100)
    assert order.total_cents == line.quantity * line.unit_price_cents == line.total_cents


def test_concurrent_order_completed_batches_keep_one_writers_lines(pg_db):
    # First round creates the order (writers race on its unique id), second replaces it.
    for _ in range(2):
        results = _ingest_one_line_batches(pg_db, "o1")
        assert [r for r in results if isinstance(r, Exception)] == []
        assert results == [1] * WRITERS
        _assert_one_writers_lines(pg_db, "o1")


def test_order_writers_that_read_then_write_replace_lines_once(pg_db):
    # The import path's shape: read the orders by external id, decide, then write them.
    with transaction(pg_db.sessions) as session:
        factories.customer(session, "c1")
        factories.order(session, "o1", total=100, lines=[{"sku": "old", "unit_price_cents": 100}])

    def replace(i: int) -> None:
        with transaction(pg_db.sessions) as session:
            current = service.orders_by_external_id(session=session, external_ids={"o1"})["o1"]
            time.sleep(0.05)  # wide enough for every writer to read before any writes
            line = LineInput(sku=f"sku-{i}", quantity=1 + i % 3, unit_price_cents=(1 + i) * 100)
            order = OrderInput(
                external_id="o1",
                customer_external_id="c1",
                placed_at=at(0),
                total_cents=line.quantity * line.unit_price_cents,
                lines=(line,),
            )
            service.write_order(
                session=session,
                order=order,
                customer_id=current.customer_id,
                existing=current,
                now=at(1),
            )

    results = _together(8, replace)
    assert [r for r in results if isinstance(r, Exception)] == []
    _assert_one_writers_lines(pg_db, "o1")
