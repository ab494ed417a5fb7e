"""Per-customer aggregates: incremental maintenance equals a full rebuild."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from patron.customers import service
from patron.customers.tables import CustomerStats
from patron.db import transaction
from tests import factories


def _snapshot(session) -> list[tuple]:
    """All aggregate rows as comparable tuples."""
    rows = session.scalars(select(CustomerStats).order_by(CustomerStats.customer_id))
    return [
        (
            r.customer_id,
            r.first_order_at,
            r.last_order_at,
            r.order_count,
            r.purchase_days,
            r.total_spent_cents,
            r.first_day_cents,
            r.last_event_at,
        )
        for r in rows
    ]


def test_aggregates_follow_orders_refunds_and_cancellations(db):
    with transaction(db.sessions) as s:
        factories.customer(s, "c1")
        factories.order(s, "o1", days=0, total=1000)
        factories.order(s, "o2", days=0.2, total=500)
        factories.order(s, "o3", days=10, total=2000)
        factories.order(s, "o4", days=20, total=700)
        service.refund_order(session=s, external_id="o3", amount_cents=500, now=factories.T0)
        service.cancel_order(session=s, external_id="o4", now=factories.T0)
    with transaction(db.sessions) as s:
        stats = s.scalar(select(CustomerStats))
        assert stats.order_count == 3
        assert stats.purchase_days == 2
        assert stats.total_spent_cents == 1000 + 500 + 1500
        assert stats.first_day_cents == 1500
        assert stats.first_order_at == factories.at(0)
        assert stats.last_order_at == factories.at(10)


operations = st.lists(
    st.tuples(
        st.sampled_from(["order", "refund", "cancel", "event"]),
        st.integers(0, 3),  # customer
        st.integers(0, 7),  # order number
        st.floats(0, 60, allow_nan=False),  # day
        st.integers(1, 5000),  # cents
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_rebuild_equals_incremental(db, ops):
    with transaction(db.sessions) as s:
        for table in ("events", "order_lines", "orders", "customer_stats", "customers"):
            s.execute(__import__("sqlalchemy").text(f"DELETE FROM {table}"))
    with transaction(db.sessions) as s:
        known: set[str] = set()
        for kind, cust, number, day, cents in ops:
            oid = f"o{number}"
            if kind == "order":
                factories.order(s, oid, f"c{cust}", days=day, total=cents)
                known.add(oid)
            elif kind == "refund" and oid in known:
                row = s.scalar(select(service.Order).where(service.Order.external_id == oid))
                if row.refunded_cents + cents <= row.total_cents:
                    service.refund_order(
                        session=s, external_id=oid, amount_cents=cents, now=factories.T0
                    )
            elif kind == "cancel" and oid in known:
                service.cancel_order(session=s, external_id=oid, now=factories.T0)
            elif kind == "event":
                c = factories.customer(s, f"c{cust}")
                service.record_event(
                    session=s,
                    message_id=f"m{len(known)}-{day}",
                    type_="track",
                    name="Viewed",
                    customer_id=c.id,
                    anonymous_id=None,
                    properties={},
                    context={},
                    occurred_at=factories.at(day),
                    received_at=factories.at(day),
                )
    with transaction(db.sessions) as s:
        incremental = _snapshot(s)
        service.rebuild_stats(s)
    with transaction(db.sessions) as s:
        assert _snapshot(s) == incremental
