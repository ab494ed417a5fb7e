"""`patron analyze` and `patron refresh` share one scoring pipeline: same data, same scores."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from patron.analytics import analyze, refresh, scoring
from patron.analytics.cli import analyze_command, refresh_command
from patron.analytics.tables import CustomerScore
from patron.customers import service as customers_service
from patron.customers.tables import Customer, Order
from patron.db import transaction
from tests.analytics import legacy_reader

CDNOW = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
SPEC = analyze.CsvSpec(format="cdnow")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _load_cdnow(session) -> None:
    """The CDNOW sample as customers (external id = CDNOW id) and paid orders at 00:00 UTC."""
    ids, times, amounts = legacy_reader.read_transactions(CDNOW, SPEC, now=NOW)
    customer_ids = {
        name: customers_service.upsert_customer(
            session=session, external_id=str(name), profile={}, now=NOW
        ).id
        for name in np.unique(ids).tolist()
    }
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    days = times.astype("datetime64[D]").astype(np.int64).tolist()
    session.add_all(
        Order(
            external_id=f"o{i}",
            customer_id=customer_ids[name],
            placed_at=epoch + timedelta(days=day),
            status="paid",
            currency="USD",
            total_cents=round(amount * 100),
            discount_cents=0,
            refunded_cents=0,
            source="test",
            created_at=NOW,
            updated_at=NOW,
        )
        for i, (name, day, amount) in enumerate(
            zip(ids.tolist(), days, amounts.tolist(), strict=True)
        )
    )
    session.flush()
    customers_service.rebuild_stats(session)


def _stored_scores(session) -> dict[str, CustomerScore]:
    """Stored scores by customer external id."""
    rows = session.execute(
        select(Customer.external_id, CustomerScore).join(
            CustomerScore, CustomerScore.customer_id == Customer.id
        )
    )
    return {external_id: score for external_id, score in rows}


def test_analyze_and_refresh_give_the_same_scores_on_cdnow(db):
    result = analyze.analyze(CDNOW, SPEC, now=NOW)
    end = datetime.fromisoformat(result.end_date).replace(tzinfo=UTC) + timedelta(days=1)
    with transaction(db.sessions) as session:
        _load_cdnow(session)
    report = refresh.refresh(sessions=db.sessions, now=end)
    with transaction(db.sessions) as session:
        stored = _stored_scores(session)
    assert result.model == report.model == "mbgnbd"
    assert result.fit_note is None and report.fit_note is None
    assert report.fit["params"] == pytest.approx(result.fit["params"], rel=1e-9)
    assert report.cycle_days == result.cycle_days
    s = result.scores
    assert len(stored) == result.customers == 2357
    rows = [stored[str(name)] for name in s["customer"].tolist()]
    assert [r.lifecycle_stage for r in rows] == s["stage"].tolist()
    assert [r.rfm_segment for r in rows] == s["segment"].tolist()
    assert [r.recency_score for r in rows] == s["recency_score"].tolist()
    assert [r.monetary_score for r in rows] == s["monetary_score"].tolist()
    p_alive = np.array([r.p_alive for r in rows])
    assert np.abs(p_alive - s["p_alive"]).max() < 1e-9
    assert np.abs(np.array([r.churn_risk for r in rows]) - s["churn_risk"]).max() < 1e-9
    expected = np.array([r.expected_purchases_90d for r in rows])
    assert np.abs(expected - s["expected_purchases_90d"]).max() < 1e-9
    assert [r.predicted_clv_cents for r in rows] == np.round(s["clv"] * 100).astype(int).tolist()
    assert [r.expected_spend_cents for r in rows] == (
        np.round(s["expected_spend"] * 100).astype(int).tolist()
    )
    # The pipeline's predictions are not constant: the comparison above can fail.
    assert p_alive.std() > 0.05 and len(set(s["stage"].tolist())) >= 3


def _default(function, name: str):
    """The default of a parameter (a Typer option's default for CLI commands)."""
    default = inspect.signature(function).parameters[name].default
    return getattr(default, "default", default)


def test_refresh_and_analyze_default_to_the_same_model():
    assert scoring.DEFAULT_MODEL == "mbgnbd"
    for function in (analyze.analyze, refresh.refresh, analyze_command, refresh_command):
        assert _default(function, "model") == "mbgnbd", function.__name__


def test_both_models_are_fitted_on_at_most_fit_sample_buyers(monkeypatch):
    ids, times, amounts = legacy_reader.read_transactions(CDNOW, SPEC, now=NOW)
    _, codes = np.unique(ids, return_inverse=True)
    days = times.astype("datetime64[D]").astype(np.int64)
    cents = np.round(amounts * 100).astype(np.int64)
    buyers = legacy_reader.customer_aggregates(codes, days, cents)
    whole = scoring.score(buyers, now_days=float(days.max() + 1))
    monkeypatch.setattr(scoring, "FIT_SAMPLE", 1000)
    capped = scoring.score(buyers, now_days=float(days.max() + 1))
    assert whole.fit["customers"] == 2357 and capped.fit["customers"] == 1000
    assert capped.spend_fit["customers"] < whole.spend_fit["customers"]
    assert capped.fit["params"] != whole.fit["params"]
    assert np.isfinite(capped.p_alive).all() and capped.p_alive.size == 2357
