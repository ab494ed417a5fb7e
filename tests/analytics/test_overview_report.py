"""The overview's figures (analytics.service.overview_report) equal a computation in Python."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from patron.analytics import service
from patron.customers import service as customers_service
from patron.customers.rules import COUNTED_EXCLUDED
from patron.dashboard.periods import Period
from patron.db import transaction
from tests import factories

STATUSES = ["paid", "fulfilled", "placed", "cancelled", "refunded", "partially_refunded"]


def _shop(session, seed: int) -> list[dict]:
    """Random customers and orders over 60 days; returns the orders as written."""
    rng = np.random.default_rng(seed)
    for c in range(10):
        customers_service.upsert_customer(
            session=session,
            external_id=f"c{c}",
            profile={},
            now=factories.at(float(rng.uniform(0, 50))),
        )
    orders = []
    for n in range(45):
        status = STATUSES[int(rng.choice(6, p=[0.35, 0.3, 0.1, 0.1, 0.05, 0.1]))]
        total = int(rng.integers(100, 20000))
        refunded = {"refunded": total, "partially_refunded": total // 3}.get(status, 0)
        spec = {
            "id": f"o{n}",
            "customer": f"c{rng.integers(0, 10)}",
            "days": round(float(rng.uniform(0, 60)), 3),
            "total": total,
            "status": status,
            "refunded": refunded,
        }
        factories.order(
            session,
            spec["id"],
            spec["customer"],
            days=spec["days"],
            total=total,
            status=status,
            refunded_cents=refunded,
        )
        orders.append(spec)
    return orders


def _expected(orders: list[dict], created: dict[str, float], start: float, end: float) -> dict:
    """The figures of [start, end) in days after T0, computed without SQL."""
    counted = [o for o in orders if o["status"] not in COUNTED_EXCLUDED]
    first = {}
    for o in counted:
        first[o["customer"]] = min(first.get(o["customer"], o["days"]), o["days"])
    inside = [o for o in counted if start <= o["days"] < end]
    per_buyer = {}
    for o in inside:
        per_buyer[o["customer"]] = per_buyer.get(o["customer"], 0) + 1
    return {
        "orders": len(inside),
        "revenue_cents": sum(o["total"] - o["refunded"] for o in inside),
        "customers": len(per_buyer),
        "first_time_customers": sum(1 for day in first.values() if start <= day < end),
        "repeat": sum(1 for n in per_buyer.values() if n >= 2),
        "customers_total": sum(1 for day in created.values() if day < end),
    }


def _bounds(period: Period) -> tuple[float, float]:
    """A period as days after T0."""
    return tuple((b - factories.T0).total_seconds() / 86400 for b in period.bounds)


@pytest.mark.parametrize("seed", [1, 2])
def test_overview_figures_match_an_independent_computation(db, seed):
    with transaction(db.sessions) as s:
        orders = _shop(s, seed)
    with transaction(db.sessions) as s:
        created = {
            c.external_id: (c.created_at - factories.T0).total_seconds() / 86400
            for c in (
                customers_service.find_customer(session=s, external_id=f"c{i}") for i in range(10)
            )
        }
        period = Period(date(2025, 1, 31), date(2025, 2, 19))
        report = service.overview_report(session=s, start=period.start, end=period.end)
    repeat = report["kpis"]["repeat_purchase_rate"]
    for key, span, rate in (
        ("period", period, repeat["value"]),
        ("previous_period", period.previous(), repeat["previous"]),
    ):
        figures = report[key]
        expected = _expected(orders, created, *_bounds(span))
        for name in ("orders", "revenue_cents", "customers", "first_time_customers"):
            assert figures[name] == expected[name], name
        assert figures["customers_total"] == expected["customers_total"]
        assert rate == pytest.approx(expected["repeat"] / expected["customers"])
    assert report["period"]["orders"] > 0 and report["previous_period"]["orders"] > 0


def test_daily_revenue_covers_every_day_and_sums_to_revenue(db):
    with transaction(db.sessions) as s:
        orders = _shop(s, 3)
    period = Period(date(2025, 1, 1), date(2025, 3, 1))
    with transaction(db.sessions) as s:
        report = service.overview_report(session=s, start=period.start, end=period.end)
    daily = report["daily_revenue"]
    assert [d for d, _ in daily] == period.dates()
    assert sum(c for _, c in daily) == report["period"]["revenue_cents"]
    by_day = {}
    for o in orders:
        if o["status"] not in COUNTED_EXCLUDED:
            day = (factories.at(o["days"])).date()
            by_day[day] = by_day.get(day, 0) + o["total"] - o["refunded"]
    assert {d: c for d, c in daily if c} == {d: c for d, c in by_day.items() if c}


def test_rates_and_averages_of_an_empty_period_are_absent(db):
    with transaction(db.sessions) as s:
        factories.customer(s, "c1")
        factories.order(s, "o1", days=0, total=1000)
        start = factories.at(10).date()
        report = service.overview_report(session=s, start=start, end=start + timedelta(days=4))
    kpis = report["kpis"]
    assert report["period"]["orders"] == 0 and kpis["repeat_purchase_rate"]["value"] is None
    assert kpis["average_order_value"]["value"] is None
    assert report["period"]["customers_total"] == 1
