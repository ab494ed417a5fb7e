"""The dialect-specific reads on PostgreSQL: epoch days, JSON view properties, the report."""

from __future__ import annotations

from datetime import timedelta

from patron.db import transaction
from patron.recommendations import service
from patron.recommendations.tables import RecClick
from tests.recommendations.shop import NOW, START, load, planted


def test_training_serving_and_report_on_postgresql(pg_db):
    with transaction(pg_db.sessions) as s:
        ids = load(s, planted(customers=80, lines=500))
    assert service.train(sessions=pg_db.sessions, now=NOW).state == "ready"
    cid = ids["customers"]["c1"]
    with transaction(pg_db.sessions) as s:
        views = service.serving.viewed_not_bought(s, cid)
        lines = service.customers.purchase_lines(s)
        assert abs(lines.day.min() - START.timestamp() / 86400) < 200
        down = service.for_customer(session=s, customer_id=cid, kind="down_sell", n=5)
        assert down.items and not down.fallback
        order = service.customers.Order
        first = s.query(order).filter(order.customer_id == cid).order_by(order.placed_at).first()
        s.add(
            RecClick(
                event_id="e1",
                customer_id=cid,
                product_id=first.lines[0].product_id,
                kind="personal",
                clicked_at=first.placed_at - timedelta(days=1),
            )
        )
    with transaction(pg_db.sessions) as s:
        (row,) = service.report(session=s)
    assert all(isinstance(p, int) for p in views)
    assert row.kind == "personal" and row.clicks == 1 and row.orders >= 1
    assert row.revenue_cents > 0
