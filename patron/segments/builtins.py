"""Built-in segments for the stages the marketing team thinks in (created once, editable)."""

from __future__ import annotations


def _stage(stage: str) -> dict:
    """Rules: the customer's lifecycle stage (from `patron refresh`) is stage."""
    return {
        "type": "and",
        "children": [{"type": "score", "field": "lifecycle_stage", "op": "eq", "value": stage}],
    }


# (builtin key, name, description, rules)
BUILTINS: tuple[tuple[str, str, str, dict], ...] = (
    ("new", "New customers", "First order recently, within one purchase cycle.", _stage("new")),
    (
        "loyal",
        "Loyal customers",
        "Lifecycle stage loyal: active, with three or more orders. Not the RFM segment "
        "“Loyal (RFM)”, which ranks past orders and spend and may hold lapsed customers.",
        _stage("loyal"),
    ),
    ("occasional", "Occasional buyers", "Active customers with few orders.", _stage("occasional")),
    (
        "at_risk",
        "At-risk customers",
        "No order for more than two purchase cycles.",
        _stage("at_risk"),
    ),
    (
        "former",
        "Former customers",
        "No order for more than four purchase cycles.",
        _stage("former"),
    ),
    (
        "ambassador",
        "Ambassadors",
        "Active advocates: referrers and promoters.",
        _stage("ambassador"),
    ),
    (
        "high_value",
        "High-value customers",
        "Top decile of predicted customer lifetime value.",
        {
            "type": "and",
            "children": [{"type": "score", "field": "clv_percentile", "op": "gte", "value": 90}],
        },
    ),
    (
        "birthdays_this_month",
        "Birthdays this month",
        "Customers whose birthday is this month.",
        {"type": "and", "children": [{"type": "profile", "field": "birthday", "op": "this_month"}]},
    ),
)
