"""Pure customer analytics: summaries, RFM, lifecycle stages, KPIs, cohorts and CLV models.

Nothing here touches the database or reads the clock: callers pass NumPy arrays (fetched with SQL
by the service layer) and ``now`` / observation instants explicitly. Money is in whatever unit the
caller passes (floats are fine here; the service converts integer cents).

Public API
----------
``patron.analytics.summary``
    ``summarize(customer_ids, times, values=None, *, observation_end, calibration_end=None,
    unit="days") -> CustomerSummary``;
    ``summary_from_aggregates(first_order_at, last_order_at, purchase_days, total_spent, *,
    observation_end, unit="days", first_order_value=None, customer_ids=None) -> CustomerSummary``;
    ``read_transactions_csv(path, *, delimiter=",", skip_header=1) -> (ids, times, values)``;
    ``median_interpurchase_interval(customer_ids, times, *, unit="days") -> float``;
    ``CustomerSummary.compress() -> CompressedSummary`` (distinct rows and weights).
``patron.analytics.rfm``
    ``rfm_scores(recency_age, frequency, monetary) -> RfmScores``; ``rfm_segments(r, f, m)``;
    ``quantile_scores(values, *, higher_is_better=True)``; ``SEGMENT_RULES`` (the rule table).
``patron.analytics.lifecycle``
    ``lifecycle_stages(order_count, first_order_at, last_order_at, *, now, cycle,
    is_advocate=None, thresholds=LifecycleThresholds()) -> np.ndarray``;
    ``stage_changes(old, new)``; ``STAGES``; ``STAGE_RULES``.
``patron.analytics.kpis``
    ``retention_rate``, ``churn_rate``, ``repeat_purchase_rate``, ``purchase_frequency``,
    ``average_order_value``, ``revenue_per_customer``, ``historical_clv``, ``net_promoter_score``,
    ``KpiSet``, ``kpi_set(...)``, ``compare(current, previous) -> dict``.
``patron.analytics.cohorts``
    ``retention_matrix(first_period, customer_index, active_period, *, n_periods=None)
    -> CohortTable``.
``patron.analytics.clv``
    ``fit_bgnbd``, ``fit_mbgnbd``, ``fit_paretonbd`` ``(frequency, recency, T, weights=None)``
    -> frozen models with ``params``, ``log_likelihood``, ``std_errors``, ``n_customers``,
    ``expected_purchases(t, frequency, recency, T)``, ``probability_alive(frequency, recency, T)``,
    ``log_likelihood_at(...)``; ``fit_gamma_gamma(frequency, monetary, weights=None)``
    -> ``GammaGammaModel.expected_spend(frequency, monetary)``;
    ``clv(model, spend_model, frequency, recency, T, monetary, *, months=12, discount_rate=0.01,
    periods_per_month=...)``; ``holdout_comparison(predicted, actual, calibration_frequency)``.

Every function raises ``AnalyticsInputError`` (a ``ValueError``) with a one-line message on input it
cannot summarise or fit (empty, NaN, negative values, dates after the observation end, ...).
"""


class AnalyticsInputError(ValueError):
    """Input that an analytics function cannot use (one-line message says why)."""


from patron.analytics.summary import (  # noqa: E402
    CompressedSummary,
    CustomerSummary,
    median_interpurchase_interval,
    read_transactions_csv,
    summarize,
    summary_from_aggregates,
)

__all__ = [
    "AnalyticsInputError",
    "CompressedSummary",
    "CustomerSummary",
    "median_interpurchase_interval",
    "read_transactions_csv",
    "summarize",
    "summary_from_aggregates",
]
