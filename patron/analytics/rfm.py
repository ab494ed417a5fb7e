"""RFM scores (1-5 by quantile) and named segments.

Scores are rank based and deterministic: a customer's score is ``1 + floor(5 * k / n)`` where ``k``
is the number of customers with a strictly *worse* value and ``n`` the number of customers. Equal
values therefore always get equal scores (ties never split across a boundary), the best values get
5 when they are less than a fifth of customers tied. Recency is measured as the time since the
last purchase (smaller is better); frequency and monetary are larger-is-better.

Segments use the recency score R and ``FM = ceil((F + M) / 2)`` (the mean of F and M, halves
rounded up). Rules are checked top to bottom and the first match wins; together they cover all
25 (R, FM) cells:

| segment            | R   | FM  |
| ------------------ | --- | --- |
| Champions          | 4-5 | 4-5 |
| Loyal              | 3-5 | 3-5 |
| Potential loyalist | 4-5 | 2   |
| New                | 5   | 1   |
| Promising          | 4   | 1   |
| Need attention     | 3   | 2   |
| About to sleep     | 3   | 1   |
| Can't lose them    | 1-2 | 5   |
| At risk            | 1-2 | 3-4 |
| Hibernating        | 2   | 1-2 |
| Lost               | 1   | 1-2 |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.analytics import AnalyticsInputError


@dataclass(frozen=True)
class SegmentRule:
    """One row of the segment table: inclusive R and FM score ranges."""

    name: str
    r_min: int
    r_max: int
    fm_min: int
    fm_max: int


SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", 4, 5, 4, 5),
    SegmentRule("Loyal", 3, 5, 3, 5),
    SegmentRule("Potential loyalist", 4, 5, 2, 2),
    SegmentRule("New", 5, 5, 1, 1),
    SegmentRule("Promising", 4, 4, 1, 1),
    SegmentRule("Need attention", 3, 3, 2, 2),
    SegmentRule("About to sleep", 3, 3, 1, 1),
    SegmentRule("Can't lose them", 1, 2, 5, 5),
    SegmentRule("At risk", 1, 2, 3, 4),
    SegmentRule("Hibernating", 2, 2, 1, 2),
    SegmentRule("Lost", 1, 1, 1, 2),
)
SEGMENTS: tuple[str, ...] = tuple(rule.name for rule in SEGMENT_RULES)
# Stored segment names stay stable; pages show these labels. "Loyal" of RFM ranks past orders
# and spend against other customers, while the lifecycle stage "loyal" means active with three
# or more orders: one customer can be "Loyal (RFM)" yet lifecycle "former" and likely churned.
LABELS = {"Loyal": "Loyal (RFM)"}
LOYAL_HELP = (
    "RFM segments rank how recently, how often and how much a customer bought against everyone "
    "else; lifecycle stages follow the customer's own purchase rhythm. So a customer with many "
    "past orders can be “Loyal (RFM)” while their lifecycle stage is “former” (no order for more "
    "than four purchase cycles) with a high churn risk."
)


def segment_label(name: str | None) -> str | None:
    """How pages show a stored RFM segment name ("Loyal" is "Loyal (RFM)")."""
    return None if name is None else LABELS.get(name, name)


@dataclass(frozen=True)
class RfmScores:
    """Per-customer R, F, M scores (1-5) and segment names."""

    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray


def _values(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise AnalyticsInputError(f"{name} must be a non-empty 1-D array")
    if not np.isfinite(arr).all():
        raise AnalyticsInputError(f"{name} contains NaN or infinite values")
    return arr


def quantile_scores(values, *, higher_is_better: bool = True, n_scores: int = 5) -> np.ndarray:
    """Score values 1..n_scores by rank: ``1 + floor(n_scores * worse_count / n)``."""
    arr = _values(values, "values")
    worse = count_below(arr) if higher_is_better else count_above(arr)
    return (1 + (n_scores * worse) // arr.size).astype(np.int8)


def count_below(values: np.ndarray) -> np.ndarray:
    """How many values are strictly below each value (one sort, then linear passes)."""
    order, first, _ = _tie_runs(values)
    out = np.empty(values.size, np.int64)
    out[order] = first
    return out


def count_above(values: np.ndarray) -> np.ndarray:
    """How many values are strictly above each value."""
    order, _, last = _tie_runs(values)
    out = np.empty(values.size, np.int64)
    out[order] = values.size - 1 - last
    return out


def _tie_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort order and, per sorted position, the first and last position of its run of ties."""
    order = np.argsort(values)  # ties get one count, so the sort need not be stable
    ordered = values[order]
    if not ordered.size:
        return order, order, order
    new = np.empty(ordered.size, bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    if ordered.dtype.kind == "f" and np.isnan(ordered[-1]):  # NaNs sort last, tie as one
        nan = np.isnan(ordered)
        new[1:] &= ~(nan[1:] & nan[:-1])
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    ends = np.r_[starts[1:], ordered.size] - 1
    return order, starts[run], ends[run]


def segment_table() -> np.ndarray:
    """Return the 5x5 lookup ``table[R-1, FM-1]`` of segment indices into ``SEGMENTS``."""
    table = np.full((5, 5), -1, dtype=np.int8)
    for index in range(len(SEGMENT_RULES) - 1, -1, -1):
        rule = SEGMENT_RULES[index]
        table[rule.r_min - 1 : rule.r_max, rule.fm_min - 1 : rule.fm_max] = index
    return table


def rfm_segments(r, f, m) -> np.ndarray:
    """Name the segment of each customer from R, F, M scores (first matching rule wins)."""
    r, f, m = (np.asarray(v, dtype=np.int64) for v in (r, f, m))
    if any(((v < 1) | (v > 5)).any() for v in (r, f, m)):
        raise AnalyticsInputError("RFM scores must be between 1 and 5")
    fm = (f + m + 1) // 2
    return np.asarray(SEGMENTS, dtype=object)[segment_table()[r - 1, fm - 1]]


def rfm_scores(recency_age, frequency, monetary) -> RfmScores:
    """Score customers by time since last purchase, purchase count and spend; name segments."""
    age = _values(recency_age, "recency_age")
    freq = _values(frequency, "frequency")
    money = _values(monetary, "monetary")
    if not (age.shape == freq.shape == money.shape):
        raise AnalyticsInputError("recency_age, frequency and monetary must have equal lengths")
    r = quantile_scores(age, higher_is_better=False)
    f = quantile_scores(freq)
    m = quantile_scores(money)
    return RfmScores(r, f, m, rfm_segments(r, f, m))
