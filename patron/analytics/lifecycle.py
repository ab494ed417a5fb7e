"""Customer lifecycle stages relative to the shop's purchase cycle.

``cycle`` is the shop's typical inter-purchase interval (e.g. the median gap between consecutive
purchase days, ``summary.median_interpurchase_interval``), in the same unit as the times. With
``since_last = now - last_order_at`` and ``since_first = now - first_order_at``, rules are checked
top to bottom (first match wins; defaults of ``LifecycleThresholds`` in brackets):

| stage      | rule                                                                         |
| ---------- | ---------------------------------------------------------------------------- |
| former     | since_last > former_cycles (4) x cycle                                       |
| at_risk    | since_last > at_risk_cycles (2) x cycle                                      |
| ambassador | is_advocate (referrals, promoters) and orders >= ambassador_min_orders (1)   |
| new        | orders <= new_max_orders (1) and since_first <= new_cycles (1) x cycle       |
| loyal      | orders >= loyal_min_orders (3)                                               |
| occasional | everyone else (active, few orders)                                           |

Customers must have at least one order. Times may be numbers (days, seconds ... as long as cycle
uses the same unit) or datetime64 arrays (then ``cycle`` is in days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.analytics import AnalyticsInputError
from patron.analytics.summary import instant_days

STAGES = ("new", "loyal", "occasional", "at_risk", "former", "ambassador")
STAGE_RULES: tuple[tuple[str, str], ...] = (
    ("former", "no order for more than former_cycles purchase cycles"),
    ("at_risk", "no order for more than at_risk_cycles purchase cycles"),
    ("ambassador", "active advocate (referrals, promoter) with ambassador_min_orders orders"),
    ("new", "at most new_max_orders orders, first within new_cycles cycles"),
    ("loyal", "active with at least loyal_min_orders orders"),
    ("occasional", "active, fewer orders"),
)


@dataclass(frozen=True)
class LifecycleThresholds:
    """Stage thresholds, in purchase cycles and order counts."""

    new_cycles: float = 1.0
    new_max_orders: int = 1
    at_risk_cycles: float = 2.0
    former_cycles: float = 4.0
    loyal_min_orders: int = 3
    ambassador_min_orders: int = 1


def _times(values) -> np.ndarray:
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        if np.isnat(arr).any():
            raise AnalyticsInputError("order times contain NaT")
        return arr.astype("datetime64[us]").astype(np.int64) / 86_400e6
    arr = arr.astype(float)
    if not np.isfinite(arr).all():
        raise AnalyticsInputError("order times contain NaN or infinite values")
    return arr


def lifecycle_stages(
    order_count,
    first_order_at,
    last_order_at,
    *,
    now,
    cycle: float,
    is_advocate=None,
    thresholds: LifecycleThresholds = LifecycleThresholds(),
) -> np.ndarray:
    """Assign each customer a lifecycle stage (see the module table)."""
    orders = np.asarray(order_count)
    first, last = _times(first_order_at), _times(last_order_at)
    current = (
        instant_days(now)
        if np.issubdtype(np.asarray(first_order_at).dtype, np.datetime64)
        else float(now)
    )
    if not (orders.shape == first.shape == last.shape) or orders.ndim != 1:
        raise AnalyticsInputError("order_count, first_order_at, last_order_at: equal 1-D lengths")
    if not float(cycle) > 0:
        raise AnalyticsInputError("cycle must be a positive duration")
    if (orders < 1).any() or (last < first).any() or (last > current).any():
        raise AnalyticsInputError("need >= 1 order, first <= last <= now for every customer")
    advocate = np.zeros(orders.shape, bool) if is_advocate is None else np.asarray(is_advocate)
    if advocate.shape != orders.shape:
        raise AnalyticsInputError("is_advocate must have one value per customer")
    th = thresholds
    since_last = (current - last) / cycle
    since_first = (current - first) / cycle
    conditions = [
        since_last > th.former_cycles,
        since_last > th.at_risk_cycles,
        advocate.astype(bool) & (orders >= th.ambassador_min_orders),
        (orders <= th.new_max_orders) & (since_first <= th.new_cycles),
        orders >= th.loyal_min_orders,
    ]
    choices = ["former", "at_risk", "ambassador", "new", "loyal"]
    return np.select(conditions, choices, default="occasional").astype(object)


def stage_changes(old, new) -> np.ndarray:
    """Return the indices of customers whose stage differs between ``old`` and ``new``."""
    old, new = np.asarray(old), np.asarray(new)
    if old.shape != new.shape:
        raise AnalyticsInputError("old and new stages must have the same length")
    return np.flatnonzero(old != new)
