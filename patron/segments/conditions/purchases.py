"""Purchase conditions on the per-customer aggregates: counts, money, first and last order."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_condition_type,
)
from patron.segments.conditions.registry import MAX_CENTS, MAX_COUNT, register


def _count(name: str, label: str, maximum: float = MAX_COUNT, unit: str | None = None) -> Field:
    """A non-null aggregate; a customer without aggregates counts as zero."""
    return Field(
        name,
        label,
        "number",
        minimum=0,
        maximum=maximum,
        unit=unit,
        get=lambda facts: facts.stats.get(name) or 0,
    )


def _moment(name: str, label: str) -> Field:
    """A nullable time of the aggregates."""
    return Field(name, label, "datetime", get=lambda facts: facts.stats.get(name))


def _average(facts) -> Fraction | None:
    """Exact average order value in cents, None without orders."""
    count = facts.stats.get("order_count") or 0
    return Fraction(facts.stats.get("total_spent_cents") or 0, count) if count else None


COUNTS = ("order_count", "purchase_days", "total_spent_cents")
MOMENTS = ("first_order_at", "last_order_at", "last_event_at")
FIELDS = {
    f.name: f
    for f in (
        _count("order_count", "Orders"),
        _count("purchase_days", "Purchase days"),
        _count("total_spent_cents", "Total spent", MAX_CENTS, unit="money"),
        Field(
            "average_order_cents",
            "Average order value",
            "number",
            minimum=0,
            maximum=MAX_CENTS,
            unit="money",
            get=_average,
        ),
        _moment("first_order_at", "First order"),
        _moment("last_order_at", "Last order"),
        _moment("last_event_at", "Last activity"),
    )
}


class PurchaseCondition(FieldCondition):
    """`{"type": "purchase", "field": "order_count", "op": "gte", "value": 3}`."""

    FIELDS = FIELDS
    type: Literal["purchase"]


register(field_condition_type("purchase", "Purchases", PurchaseCondition, FIELDS, activity=True))
