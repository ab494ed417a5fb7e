"""Customer lifetime value over a horizon, and the holdout check of a fitted model.

CLV (as lifetimes' ``customer_lifetime_value``, after Fader, Hardie & Lee 2005, "RFM and CLV"):
the discounted sum over months ``i = 1..months`` of the expected purchases in month ``i`` times the
expected spend per purchase::

    CLV = sum_i spend * (E[X(i k)] - E[X((i-1) k)]) / (1 + discount_rate)^i

where ``E[X(t)]`` is the model's conditional expectation and ``k = periods_per_month`` model time
units per month (4.345 for weeks, 30 for days, 1 for months). Expectations are computed once per
distinct (frequency, recency, T) row. ``spend`` is usually ``GammaGammaModel.expected_spend``; money
is in its unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from patron.analytics import AnalyticsInputError
from patron.analytics.clv._model import TransactionModel, _per_distinct

PERIODS_PER_MONTH = {"days": 30.0, "weeks": 4.345, "months": 1.0}


def discounted_purchases(
    model: TransactionModel,
    frequency,
    recency,
    T,
    *,
    months=12,
    discount_rate=0.01,
    periods_per_month=4.345,
) -> np.ndarray:
    """Discounted expected number of purchases over ``months`` months, per customer."""
    _check_horizon(months, discount_rate, periods_per_month)
    return _per_distinct(
        lambda x, tx, tt: _discount(
            model._expected_many(_monthly(months, periods_per_month), x, tx, tt), discount_rate
        ),
        frequency,
        recency,
        T,
    )


def purchase_predictions(
    model: TransactionModel,
    frequency,
    recency,
    T,
    *,
    horizon: float,
    months=12,
    discount_rate=0.01,
    periods_per_month=4.345,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(alive), expected purchases in ``horizon`` and discounted purchases over ``months``.

    One grouping of the rows and one call of the model for every horizon.
    """
    _check_horizon(months, discount_rate, periods_per_month)
    if not float(horizon) >= 0:
        raise ValueError("horizon t must be >= 0")

    def per_rows(x, tx, tt):
        curves = model._expected_many(
            [float(horizon), *_monthly(months, periods_per_month)], x, tx, tt
        )
        out = np.empty((3, x.size))
        out[0] = model._p_alive(x, tx, tt)
        out[1] = next(curves)
        out[2] = _discount(curves, discount_rate)
        return out

    alive, expected, purchases = _per_distinct(per_rows, frequency, recency, T, stacked=True)
    return alive, expected, purchases


def _check_horizon(months, discount_rate, periods_per_month) -> None:
    if months < 1 or discount_rate <= -1 or periods_per_month <= 0:
        raise AnalyticsInputError("months >= 1, discount_rate > -1 and periods_per_month > 0")


def _monthly(months, periods_per_month) -> list[float]:
    """The end of each month of the horizon in model time units."""
    return [i * periods_per_month for i in range(1, int(months) + 1)]


def _discount(curves: Iterator[np.ndarray], discount_rate) -> np.ndarray:
    """Sum of the discounted month-on-month increments of cumulative expectations."""
    total = previous = None
    for i, current in enumerate(curves, start=1):
        if total is None:
            total, previous = np.zeros(current.size), np.zeros(current.size)
        total += (current - previous) / (1.0 + discount_rate) ** i
        previous = current
    return total


def clv(
    model: TransactionModel,
    frequency,
    recency,
    T,
    spend,
    *,
    months=12,
    discount_rate=0.01,
    periods_per_month=4.345,
) -> np.ndarray:
    """Customer lifetime value over ``months``: discounted expected purchases times spend."""
    spend = np.asarray(spend, dtype=float)
    if spend.shape != np.shape(frequency) or not np.isfinite(spend).all():
        raise AnalyticsInputError("spend must be finite and have one value per customer")
    count = discounted_purchases(
        model,
        frequency,
        recency,
        T,
        months=months,
        discount_rate=discount_rate,
        periods_per_month=periods_per_month,
    )
    return spend * count


@dataclass(frozen=True)
class HoldoutComparison:
    """Predicted vs actual holdout purchases, overall and by calibration frequency."""

    frequency_bins: np.ndarray
    customers: np.ndarray
    mean_predicted: np.ndarray
    mean_actual: np.ndarray
    total_predicted: float
    total_actual: float
    mae: float
    correlation: float | None


def holdout_comparison(predicted, actual, calibration_frequency, *, max_frequency=7):
    """Compare predicted with actual holdout purchases; bins ``0..max_frequency`` (last is +)."""
    pred = np.asarray(predicted, dtype=float)
    act = np.asarray(actual, dtype=float)
    freq = np.asarray(calibration_frequency)
    if not (pred.shape == act.shape == freq.shape) or pred.size == 0:
        raise AnalyticsInputError("predicted, actual and frequency must be non-empty, same shape")
    if not (np.isfinite(pred).all() and np.isfinite(act).all()):
        raise AnalyticsInputError("predicted or actual contain NaN or infinite values")
    bins = np.minimum(freq, max_frequency).astype(np.int64)
    counts = np.bincount(bins, minlength=max_frequency + 1)
    seen = counts > 0
    mean_p = np.bincount(bins, pred, max_frequency + 1)[seen] / counts[seen]
    mean_a = np.bincount(bins, act, max_frequency + 1)[seen] / counts[seen]
    corr = None
    if pred.size > 1 and pred.std() > 0 and act.std() > 0:
        corr = float(np.corrcoef(pred, act)[0, 1])
    return HoldoutComparison(
        frequency_bins=np.flatnonzero(seen),
        customers=counts[seen],
        mean_predicted=mean_p,
        mean_actual=mean_a,
        total_predicted=float(pred.sum()),
        total_actual=float(act.sum()),
        mae=float(np.abs(pred - act).mean()),
        correlation=corr,
    )
