"""Segment conditions of referrals (extension point `segments.conditions`): how many referrals a
customer made, qualified or still pending.

`{"type": "referrals", "field": "qualified_referrals", "op": "gte", "value": 1}`; customers who
never referred anyone count 0. Compiled to SQL over referrals' own table; the reference
evaluator reads `facts.extra["referrals"]`.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select

from patron.referrals.tables import Referral
from patron.segments.conditions import ContributedCondition
from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_catalogue,
    field_condition_type,
)
from patron.segments.sql.fields import FieldSql, field_compiler

REFERRALS = Referral.__table__
MAX_COUNT = 10**9
COUNTED = {"qualified_referrals": "qualified", "pending_referrals": "pending"}


def _count(name: str, label: str) -> Field:
    """A referral count (0 for customers who never referred)."""
    return Field(
        name,
        label,
        "number",
        minimum=0,
        maximum=MAX_COUNT,
        get=lambda facts: facts.extra.get("referrals", {}).get(name, 0),
    )


FIELDS = {
    f.name: f
    for f in (
        _count("qualified_referrals", "Qualified referrals made"),
        _count("pending_referrals", "Referrals made, not qualified yet"),
    )
}


class ReferralsCondition(FieldCondition):
    """`{"type": "referrals", "field": "qualified_referrals", "op": "gte", "value": 2}`."""

    FIELDS = FIELDS
    type: Literal["referrals"]


def _counted(name: str) -> FieldSql:
    """The referrer's number of referrals in one state."""

    def column(ctx):
        c = REFERRALS.c
        rows = (
            select(c.referrer_customer_id.label("customer_id"), func.count().label("n"))
            .where(c.state == COUNTED[name], *ctx.restrict(c.referrer_customer_id))
            .group_by(c.referrer_customer_id)
        )
        return func.coalesce(ctx.outer_join(f"referrals_{name}", rows, once=True).c.n, 0)

    return FieldSql(column=column)


SQL = {name: _counted(name) for name in FIELDS}
KIND = field_condition_type(
    "referrals",
    "Referrals",
    ReferralsCondition,
    FIELDS,
    activity=False,
    catalogue=lambda: field_catalogue("referrals", "Referrals", FIELDS),
)
CONDITION = ContributedCondition(KIND, field_compiler(FIELDS, SQL))
