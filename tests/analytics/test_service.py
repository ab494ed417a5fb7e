"""Analytics service on SQLite and PostgreSQL: KPIs, cohorts, RFM overview, insights."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest

from patron.analytics import service
from patron.analytics.refresh import refresh
from patron.db import transaction
from patron.errors import InvalidInput, NotFound
from tests.analytics.shop import Sale, load_shop
from tests.factories import T0, at

COUNTED = ("placed", "paid", "fulfilled", "partially_refunded")


def _random_sales(seed: int, n: int = 160) -> list[Sale]:
    """Orders of 25 customers over 120 days, some cancelled or (partly) refunded."""
    rng = random.Random(seed)
    sales = []
    for _ in range(n):
        status = rng.choice((*COUNTED, "cancelled", "refunded"))
        cents = rng.randint(100, 20000)
        refunded = (
            cents
            if status == "refunded"
            else (rng.randint(1, cents) if status == "partially_refunded" else 0)
        )
        sales.append(
            Sale(f"k{rng.randint(0, 24):02d}", rng.uniform(0, 120), cents, status, refunded)
        )
    return sales


def _expected(sales: list[Sale], start: date, end: date) -> dict:
    """The period's counts and KPIs computed in plain Python, independently of the service."""
    day = lambda s: (T0 + timedelta(days=s.day)).date()  # noqa: E731
    counted = [s for s in sales if s.status in COUNTED]
    length = (end - start).days + 1
    in_period = [s for s in counted if start <= day(s) <= end]
    before = {s.customer for s in counted if start - timedelta(days=length) <= day(s) < start}
    orders_by = defaultdict(int)
    for s in in_period:
        orders_by[s.customer] += 1
    buyers = set(orders_by)
    revenue = sum(s.cents - s.refunded for s in in_period)
    retained = len(buyers & before)
    return {
        "customers_start": len(before),
        "customers": len(buyers),
        "retained": retained,
        "orders": len(in_period),
        "revenue": revenue,
        "retention_rate": retained / len(before) if before else None,
        "repeat_purchase_rate": (
            sum(1 for n in orders_by.values() if n >= 2) / len(buyers) if buyers else None
        ),
        "average_order_value": revenue / len(in_period) if in_period else None,
        "revenue_per_customer": revenue / len(buyers) if buyers else None,
        "purchase_frequency": len(in_period) / len(buyers) if buyers else None,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_kpis_match_counts_computed_in_python(db, seed):
    sales = _random_sales(seed)
    with transaction(db.sessions) as session:
        load_shop(session, sales)
    start, end = date(2025, 3, 2), date(2025, 3, 31)
    with transaction(db.sessions) as session:
        report = service.kpi_report(session=session, start=start, end=end)
    expected = _expected(sales, start, end)
    previous = _expected(sales, start - timedelta(days=30), start - timedelta(days=1))
    period = report["period"]
    assert (
        period["customers_start"],
        period["customers"],
        period["retained_customers"],
        period["orders"],
        period["revenue_cents"],
    ) == (
        expected["customers_start"],
        expected["customers"],
        expected["retained"],
        expected["orders"],
        expected["revenue"],
    )
    assert report["previous_period"]["start"] == "2025-01-31"
    kpis = {k["name"]: k for k in report["kpis"]}
    for name in (
        "retention_rate",
        "repeat_purchase_rate",
        "average_order_value",
        "revenue_per_customer",
        "purchase_frequency",
    ):
        assert kpis[name]["value"] == pytest.approx(expected[name]), name
        assert kpis[name]["previous"] == pytest.approx(previous[name]), name
        assert kpis[name]["formula"]
    assert kpis["churn_rate"]["value"] == pytest.approx(1 - expected["retention_rate"])
    assert kpis["net_promoter_score"]["value"] is None


def test_kpis_of_an_empty_period_are_undefined_not_errors(db):
    with transaction(db.sessions) as session:
        report = service.kpi_report(session=session, start=date(2020, 1, 1), end=date(2020, 1, 31))
    assert report["period"]["orders"] == 0
    assert all(k["value"] is None for k in report["kpis"])


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 3, 2), date(2025, 3, 1)),
        (date(1900, 1, 1), date(1900, 2, 1)),
        (date(2000, 1, 1), date(2025, 1, 1)),
    ],
)
def test_bad_date_ranges_are_refused(db, start, end):
    with transaction(db.sessions) as session, pytest.raises(InvalidInput):
        service.kpi_report(session=session, start=start, end=end)


def test_cohort_retention_matches_python(db):
    sales = _random_sales(5, n=220)
    with transaction(db.sessions) as session:
        load_shop(session, sales)
        report = service.cohort_report(session=session, now=at(130), months=6)
    months: dict[str, set[str]] = defaultdict(set)
    for s in sales:
        if s.status in COUNTED:
            months[s.customer].add((T0 + timedelta(days=s.day)).strftime("%Y-%m"))
    cohorts: dict[str, list[set[str]]] = defaultdict(list)
    for active in months.values():
        cohorts[min(active)].append(active)
    assert [c["cohort"] for c in report["cohorts"]] == sorted(cohorts)
    for row in report["cohorts"]:
        members = cohorts[row["cohort"]]
        assert row["customers"] == len(members)
        y, m = map(int, row["cohort"].split("-"))
        for k, share in enumerate(row["retention"]):
            month = f"{y + (m - 1 + k) // 12}-{(m - 1 + k) % 12 + 1:02d}"
            if month > "2025-05":
                assert share is None
            else:
                assert share == pytest.approx(
                    sum(month in a for a in members) / len(members), abs=1e-4
                )


def test_rfm_overview_and_insights_after_refresh(db):
    sales = [Sale(f"c{i}", d, 1000 * (i + 1)) for i in range(12) for d in range(0, 10 * i + 1, 10)]
    with transaction(db.sessions) as session:
        ids = load_shop(session, sales, idle=("idle",))
    refresh(sessions=db.sessions, now=at(120))
    with transaction(db.sessions) as session:
        overview = service.rfm_overview(session=session)
        insight = service.customer_insights(session=session, customer_id=ids["c11"])
        idle = service.customer_insights(session=session, customer_id=ids["idle"])
    assert overview["customers"] == 12
    assert sum(map(sum, overview["grid"])) == 12
    assert sum(s["customers"] for s in overview["segments"]) == 12
    assert overview["grid_segments"][4][4] == "Champions"
    assert overview["grid_segments"][0][0] == "Lost"
    assert insight["monetary_score"] == 5 and insight["rfm_segment"]
    assert insight["stage_history"][0]["from"] is None
    assert insight["stage_history"][0]["to"] == insight["lifecycle_stage"]
    assert idle["lifecycle_stage"] is None and idle["stage_history"] == []


def test_insights_of_an_unknown_customer(db):
    with transaction(db.sessions) as session, pytest.raises(NotFound):
        service.customer_insights(session=session, customer_id=424242)


def test_clv_distribution_and_churn_list(db):
    from tests.analytics.shop import simulated_sales

    with transaction(db.sessions) as session:
        load_shop(session, simulated_sales(150, seed=9))
    refresh(sessions=db.sessions, now=at(366))
    with transaction(db.sessions) as session:
        distribution = service.clv_distribution(session=session)
        churn = service.churn_risk_list(session=session, limit=10)
    assert distribution["customers"] == 150
    assert sum(b["customers"] for b in distribution["bins"]) == 150
    assert distribution["bins"][-1]["to_cents"] is None
    at_risk = [r["value_at_risk"] for r in churn]
    assert len(churn) == 10 and at_risk == sorted(at_risk, reverse=True)
    assert at_risk[0] == pytest.approx(churn[0]["churn_risk"] * churn[0]["total_spent_cents"])
