"""RFM scores and segments, lifecycle stages, KPI formulas, cohort retention."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics import AnalyticsInputError
from patron.analytics.cohorts import retention_matrix
from patron.analytics.kpis import (
    KpiSet,
    average_order_value,
    churn_rate,
    compare,
    kpi_set,
    net_promoter_score,
    repeat_purchase_rate,
    retention_rate,
)
from patron.analytics.lifecycle import LifecycleThresholds, lifecycle_stages, stage_changes
from patron.analytics.rfm import SEGMENTS, quantile_scores, rfm_scores, segment_table


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=200))
def test_scores_are_monotone_and_ties_equal(values):
    arr = np.array(values, dtype=float)
    scores = quantile_scores(arr)
    assert scores.min() >= 1 and scores.max() <= 5
    order = np.argsort(arr, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)
    for v in np.unique(arr):
        assert len(set(scores[arr == v])) == 1
    reverse = quantile_scores(arr, higher_is_better=False)
    assert np.all(np.diff(reverse[order]) <= 0)


def test_distinct_values_split_into_quintiles_and_segments_cover_grid():
    assert np.bincount(quantile_scores(np.arange(100.0)))[1:].tolist() == [20] * 5
    table = segment_table()
    assert (table >= 0).all() and set(table.ravel()) == set(range(len(SEGMENTS)))
    scores = rfm_scores([1.0, 300.0, 2.0, 250.0, 5.0], [9, 0, 0, 8, 4], [500, 10, 20, 400, 90])
    assert scores.segment[0] == "Champions" and scores.segment[1] == "Lost"
    assert scores.segment[3] == "At risk" and scores.segment[2] == "Potential loyalist"


def test_lifecycle_rules_follow_the_table():
    now = 100.0
    stages = lifecycle_stages(
        [1, 5, 2, 4, 3, 1, 3],
        [95, 10, 50, 10, 10, 10, 20],
        [95, 90, 85, 70, 40, 95, 95],
        now=now,
        cycle=10.0,
        is_advocate=[False, False, False, False, False, False, True],
    )
    assert stages.tolist() == [
        "new",
        "loyal",
        "occasional",
        "at_risk",
        "former",
        "occasional",
        "ambassador",
    ]
    strict = lifecycle_stages(
        [5], [10], [75], now=now, cycle=10.0, thresholds=LifecycleThresholds(at_risk_cycles=3.0)
    )
    assert strict.tolist() == ["loyal"]
    assert stage_changes(stages, ["new"] * 7).tolist() == [1, 2, 3, 4, 5, 6]
    with pytest.raises(AnalyticsInputError):
        lifecycle_stages([0], [1], [1], now=2, cycle=1.0)


def test_kpi_formulas_and_zero_denominators():
    assert retention_rate(90, 20, 100) == pytest.approx(0.7)
    assert churn_rate(90, 20, 100) == pytest.approx(0.3)
    assert retention_rate(5, 5, 0) is None and average_order_value(0.0, 0) is None
    assert repeat_purchase_rate(30, 120) == 0.25
    assert net_promoter_score([10, 9, 8, 7, 0]) == pytest.approx(20.0)
    assert net_promoter_score([]) is None
    now = kpi_set(
        customers_start=100,
        customers_end=110,
        new_customers=20,
        buying_customers=50,
        repeat_customers=10,
        orders=80,
        revenue=4000.0,
    )
    before = kpi_set(
        customers_start=0,
        customers_end=100,
        new_customers=100,
        buying_customers=40,
        repeat_customers=8,
        orders=60,
        revenue=2400.0,
    )
    assert isinstance(now, KpiSet) and now.historical_clv == pytest.approx(80.0)
    delta = compare(now, before)
    assert delta["retention_rate"] is None
    assert delta["average_order_value"] == pytest.approx(10.0)


def test_retention_matrix():
    first = np.array([0, 0, 1, 1, 2])
    cust = np.array([0, 0, 1, 1, 2, 3, 4, 0])
    active = np.array([0, 1, 0, 2, 1, 1, 2, 2])
    table = retention_matrix(first, cust, active)
    assert table.sizes.tolist() == [2, 2, 1]
    assert table.retention[0].tolist() == [1.0, 0.5, 1.0]
    assert table.retention[1, :2].tolist() == [1.0, 0.0] and np.isnan(table.retention[1, 2])
    assert table.observed.sum() == 6
    with pytest.raises(AnalyticsInputError):
        retention_matrix(first, np.array([0]), np.array([-1]))
