"""Segment rules behind what the analytics pages show, so each number opens its segment.

Plain dicts in the segments rule format (see patron/segments/rules.py); no imports of segments.
"""

from __future__ import annotations


def _all(*conditions: dict) -> dict:
    """An and-group of score conditions."""
    return {"type": "and", "children": list(conditions)}


def _score(field: str, op: str, value) -> dict:
    """One score condition."""
    return {"type": "score", "field": field, "op": op, "value": value}


def rfm_cell(r: int, fm: int) -> dict:
    """Customers in one cell of the R x FM grid."""
    return _all(_score("recency_score", "eq", r), _score("fm_score", "eq", fm))


def rfm_segment(name: str) -> dict:
    """Customers of one RFM segment (stored name)."""
    return _all(_score("rfm_segment", "eq", name))


def stage(name: str) -> dict:
    """Customers in one lifecycle stage (the built-in stage segments have these rules)."""
    return _all(_score("lifecycle_stage", "eq", name))


def clv_decile(decile: int) -> dict:
    """Customers of one CLV decile, 1 (lowest) to 10 (top 10%, the built-in high-value rule)."""
    if decile >= 10:
        return _all(_score("clv_percentile", "gte", 90))
    low, high = (
        _score("clv_percentile", "gte", 10 * (decile - 1)),
        _score("clv_percentile", "lt", 10 * decile),
    )
    return _all(high) if decile == 1 else _all(low, high)


def churn(min_risk: float, min_spent_cents: int) -> dict:
    """Customers likely lost who spent at least an amount: the churn list as a rule."""
    return {
        "type": "and",
        "children": [
            _score("churn_risk", "gte", min_risk),
            {
                "type": "purchase",
                "field": "total_spent_cents",
                "op": "gte",
                "value": min_spent_cents,
            },
        ],
    }
