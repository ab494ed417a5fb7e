"""Per-customer predictions of fitted models, shared by `patron refresh` and `patron analyze`.

Identical (frequency, recency, T) rows are grouped once and every prediction is computed per
distinct row: P(alive), the expected purchases in the next 90 days and the discounted expected
purchases over the CLV horizon; the 12-month CLV is the latter times the expected spend per
purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; ``patron.analytics.clv.clv``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.analytics.clv import PERIODS_PER_MONTH, purchase_predictions
from patron.analytics.rfm import count_above
from patron.analytics.summary import unit_days

HORIZON_DAYS = 90.0


@dataclass(frozen=True)
class Predictions:
    """Per-customer P(alive), expected purchases in 90 days and discounted purchases."""

    p_alive: np.ndarray
    expected_90d: np.ndarray
    purchases: np.ndarray


def predict(model, frequency, recency, T, *, unit: str, months, discount_rate) -> Predictions:
    """Predictions of a fitted purchase model per customer, computed once per distinct row."""
    p_alive, expected, purchases = purchase_predictions(
        model,
        frequency,
        recency,
        T,
        horizon=HORIZON_DAYS / unit_days(unit),
        months=months,
        discount_rate=discount_rate,
        periods_per_month=PERIODS_PER_MONTH[unit],
    )
    return Predictions(p_alive=p_alive, expected_90d=expected, purchases=purchases)


def fit_summary(model) -> dict:
    """Parameters, standard errors, log-likelihood and sample size of a fitted model."""
    return {
        "params": model.params,
        "std_errors": model.std_errors,
        "log_likelihood": model.log_likelihood,
        "customers": model.n_customers,
    }


def percentile_rank(values: np.ndarray) -> np.ndarray:
    """Percent of the values at or below each value (100 for the largest)."""
    values = np.asarray(values)
    return 100.0 * (values.size - count_above(values)) / values.size
