"""Purchase conditions on the per-customer aggregates: counts, money, first and last order."""

from __future__ import annotations

import operator
from fractions import Fraction
from typing import Literal

from sqlalchemy import BigInteger, and_, func, literal, true

# Reading another capability's table is unavoidable here: the aggregates are joined in SQL.
from patron.customers.tables import CustomerStats
from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_condition_type,
)
from patron.segments.conditions.registry import MAX_CENTS, MAX_COUNT, register

STATS = CustomerStats.__table__


def stats(ctx):
    """The customer_stats table, outer-joined once per query."""
    return ctx.outer_join("stats", STATS)


CMP = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _count_compare(name: str):
    """Compare an aggregate, reading a missing stats row as zero.

    When zero fails the comparison (e.g. orders >= 3) the raw column is compared, so the
    database may turn the outer join into an inner one and start from the selective side.
    """

    def compare(ctx, op: str, value):
        raw = stats(ctx).c[name]
        if op == "is_set":
            return true()
        if CMP[op](0, value):
            return CMP[op](func.coalesce(raw, 0), value)
        return and_(raw.isnot(None), CMP[op](raw, value))

    return compare


def _count(name: str, label: str, maximum: float = MAX_COUNT) -> Field:
    """A non-null aggregate; a customer without a stats row counts as zero."""
    return Field(
        name,
        label,
        "number",
        minimum=0,
        maximum=maximum,
        column=lambda ctx: func.coalesce(stats(ctx).c[name], 0),
        get=lambda facts: facts.stats.get(name) or 0,
        compare=_count_compare(name),
    )


def _moment(name: str, label: str) -> Field:
    """A nullable time of the aggregates."""
    return Field(
        name,
        label,
        "datetime",
        column=lambda ctx: stats(ctx).c[name],
        get=lambda facts: facts.stats.get(name),
    )


def _average_compare(ctx, op: str, value):
    """Average order value without division: total OP value * count, for count > 0."""
    table = stats(ctx)
    count, total = table.c.order_count, table.c.total_spent_cents
    positive = and_(count.isnot(None), count > 0)
    if op == "is_set":
        return positive
    scaled = count * literal(value, BigInteger)
    return and_(positive, CMP[op](total, scaled))


def _average(facts) -> Fraction | None:
    """Exact average order value in cents, None without orders."""
    count = facts.stats.get("order_count") or 0
    return Fraction(facts.stats.get("total_spent_cents") or 0, count) if count else None


FIELDS = {
    f.name: f
    for f in (
        _count("order_count", "Orders"),
        _count("purchase_days", "Purchase days"),
        _count("total_spent_cents", "Total spent (cents)", MAX_CENTS),
        Field(
            "average_order_cents",
            "Average order value (cents)",
            "number",
            minimum=0,
            maximum=MAX_CENTS,
            column=lambda ctx: None,
            get=_average,
            compare=_average_compare,
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
