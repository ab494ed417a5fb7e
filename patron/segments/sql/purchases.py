"""SQL of purchase conditions: the outer-joined customer_stats aggregates."""

from __future__ import annotations

import operator

from sqlalchemy import BigInteger, and_, func, literal, true

from patron.customers.read import CustomerStats
from patron.segments.conditions.purchases import COUNTS, FIELDS, MOMENTS
from patron.segments.sql.fields import FieldSql, field_compiler

STATS = CustomerStats.__table__
CMP = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def stats(ctx):
    """The customer_stats table, outer-joined once per query."""
    return ctx.outer_join("stats", STATS)


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


def _average_compare(ctx, op: str, value):
    """Average order value without division: total OP value * count, for count > 0."""
    table = stats(ctx)
    count, total = table.c.order_count, table.c.total_spent_cents
    positive = and_(count.isnot(None), count > 0)
    if op == "is_set":
        return positive
    scaled = count * literal(value, BigInteger)
    return and_(positive, CMP[op](total, scaled))


def _count(name: str) -> FieldSql:
    """A non-null aggregate (zero without a stats row)."""
    return FieldSql(
        column=lambda ctx: func.coalesce(stats(ctx).c[name], 0), compare=_count_compare(name)
    )


def _moment(name: str) -> FieldSql:
    """A nullable time of the aggregates."""
    return FieldSql(column=lambda ctx: stats(ctx).c[name])


SQL = {
    **{name: _count(name) for name in COUNTS},
    **{name: _moment(name) for name in MOMENTS},
    "average_order_cents": FieldSql(column=lambda ctx: None, compare=_average_compare),
}
COMPILERS = {"purchase": field_compiler(FIELDS, SQL)}
