"""Segment conditions of loyalty (extension point `segments.conditions`): tier, balance,
pending points and points expiring within 7, 30 or 90 days.

`{"type": "loyalty", "field": "tier", "op": "eq", "value": "Gold"}`; non-members read as no
tier and 0 points. Compiled to SQL over loyalty's own tables; the reference evaluator reads
`facts.extra["loyalty"]`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy import func, select

from patron.loyalty.tables import LoyaltyAccount, LoyaltyLot
from patron.segments.conditions import ContributedCondition
from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_catalogue,
    field_condition_type,
)
from patron.segments.sql.fields import FieldSql, field_compiler

ACCOUNTS, LOTS = LoyaltyAccount.__table__, LoyaltyLot.__table__
WINDOWS = (7, 30, 90)
MAX_POINTS = 10**13


def _get(name: str, default):
    """A getter of one loyalty value from the facts (non-members: the default)."""
    return lambda facts: facts.extra.get("loyalty", {}).get(name, default)


def _points(name: str, label: str) -> Field:
    """A points field (integers, 0 for non-members)."""
    return Field(name, label, "number", minimum=0, maximum=MAX_POINTS, get=_get(name, 0))


FIELDS = {
    f.name: f
    for f in (
        Field("tier", "Loyalty tier", "string", get=_get("tier", None)),
        _points("points_balance", "Points balance"),
        _points("points_pending", "Points pending"),
        *(_points(f"points_expiring_{d}d", f"Points expiring within {d} days") for d in WINDOWS),
    )
}


class LoyaltyCondition(FieldCondition):
    """`{"type": "loyalty", "field": "points_balance", "op": "gte", "value": 500}`."""

    FIELDS = FIELDS
    type: Literal["loyalty"]


def _account(name: str, default) -> FieldSql:
    """A column of the member's account (non-members: the default)."""
    return FieldSql(
        column=lambda ctx: func.coalesce(ctx.outer_join("loyalty", ACCOUNTS).c[name], default)
    )


def _expiring(days: int) -> FieldSql:
    """Unspent and pending points of lots expiring within `days` days of the compile time."""

    def column(ctx):
        rows = (
            select(LOTS.c.customer_id, func.sum(LOTS.c.remaining + LOTS.c.pending).label("points"))
            .where(LOTS.c.expires_at > ctx.now, LOTS.c.expires_at <= ctx.now + timedelta(days=days))
            .where(*ctx.restrict(LOTS.c.customer_id))
            .group_by(LOTS.c.customer_id)
        )
        return func.coalesce(
            ctx.outer_join(f"loyalty_expiring_{days}", rows, once=True).c.points, 0
        )

    return FieldSql(column=column)


SQL = {
    "tier": FieldSql(column=lambda ctx: ctx.outer_join("loyalty", ACCOUNTS).c.tier),
    "points_balance": _account("balance", 0),
    "points_pending": _account("pending", 0),
    **{f"points_expiring_{d}d": _expiring(d) for d in WINDOWS},
}
KIND = field_condition_type(
    "loyalty",
    "Loyalty",
    LoyaltyCondition,
    FIELDS,
    activity=False,
    catalogue=lambda: field_catalogue("loyalty", "Loyalty", FIELDS),
)
CONDITION = ContributedCondition(KIND, field_compiler(FIELDS, SQL))
