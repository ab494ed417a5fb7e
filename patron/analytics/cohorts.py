"""Cohort retention: share of each first-purchase cohort active k periods later.

Periods are integer indices (e.g. months since an origin: ``12 * year + month``). Cell ``[i, k]``
of the retention matrix is the share of cohort ``i`` (customers whose first period is
``cohorts[i]``) active in period ``cohorts[i] + k``; column 0 is 1 by construction when every
customer is active in their first period. Cells after the last observed period cannot be known
and are NaN on purpose (``observed`` marks the known cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.analytics import AnalyticsInputError


@dataclass(frozen=True)
class CohortTable:
    """Cohort periods, sizes, active counts and retention shares (NaN = not yet observable)."""

    cohorts: np.ndarray
    sizes: np.ndarray
    active: np.ndarray
    retention: np.ndarray
    observed: np.ndarray


def retention_matrix(
    first_period, customer_index, active_period, *, last_period=None, n_periods=None
) -> CohortTable:
    """Build the cohort retention matrix from first periods and (customer, active period) pairs."""
    first = np.asarray(first_period)
    cust = np.asarray(customer_index)
    active = np.asarray(active_period)
    if first.size == 0 or not np.issubdtype(first.dtype, np.integer):
        raise AnalyticsInputError("first_period must be a non-empty integer array")
    if cust.shape != active.shape or (cust.size and not np.issubdtype(active.dtype, np.integer)):
        raise AnalyticsInputError("customer_index and active_period: equal-length integer arrays")
    if cust.size and ((cust < 0).any() or (cust >= first.size).any()):
        raise AnalyticsInputError("customer_index out of range")
    offset = active - first[cust]
    if (offset < 0).any():
        raise AnalyticsInputError("a customer is active before their first period")
    cohorts, cohort_of = np.unique(first, return_inverse=True)
    last = int(max(first.max(), active.max() if active.size else first.max()))
    last = last if last_period is None else int(last_period)
    width = last - int(cohorts[0]) + 1 if n_periods is None else int(n_periods)
    pair = np.unique(cust.astype(np.int64) * (width + 1) + np.minimum(offset, width))
    pc, po = np.divmod(pair, width + 1)
    keep = po < width
    flat = cohort_of[pc[keep]] * width + po[keep]
    counts = np.bincount(flat, minlength=cohorts.size * width).reshape(cohorts.size, width)
    sizes = np.bincount(cohort_of, minlength=cohorts.size)
    observed = (cohorts[:, None] + np.arange(width)[None, :]) <= last
    retention = np.where(observed, counts / sizes[:, None], np.nan)
    return CohortTable(cohorts, sizes, counts, retention, observed)
