"""The dialect-specific reads on PostgreSQL: epoch days, JSON view properties, the report."""

from __future__ import annotations

import threading
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
        downs = [
            service.for_customer(
                session=s, customer_id=ids["customers"][f"c{i}"], kind="down_sell", n=5
            )
            for i in range(20)
        ]
        assert any(d.items and not d.fallback for d in downs)
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


def test_concurrent_trainings_each_finish_and_the_latest_serves(pg_db):
    with transaction(pg_db.sessions) as s:
        load(s, planted(customers=60, lines=300))
    barrier = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(service.train(sessions=pg_db.sessions, now=NOW))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(v.state for v in results) == ["ready"] * 3
    with transaction(pg_db.sessions) as s:
        served = service.current_version(s)
        assert served.id == max(v.id for v in results)
        assert service.related(session=s, sku="P001").version_id == served.id
        kept = {v.id for v in service.versions(session=s)}
    assert served.id in kept and len(kept) >= 2
