"""SQL of event conditions: outer-join the per-customer count of matching events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, select

from patron.customers.read import Event
from patron.segments.conditions.events import COMPARE, EventCondition
from patron.segments.sql.jsonvalues import json_sql

EVENTS = Event.__table__


def _compile(cond: EventCondition, ctx):
    """Outer-join the per-customer count of matching events; no events count as zero."""
    where = [
        EVENTS.c.name == cond.name,
        *ctx.restrict(EVENTS.c.customer_id),
        *[json_sql(EVENTS.c.properties, flt) for flt in cond.where],
    ]
    if cond.within_days is not None:
        where.append(EVENTS.c.occurred_at >= ctx.now - timedelta(days=cond.within_days))
    compare = COMPARE[cond.op]
    if ctx.joins_full(ctx.key(cond)):
        # Past the join budget (SQLite joins at most 64 tables): a correlated count instead.
        own = EVENTS.c.customer_id == ctx.customers.c.id
        n = select(func.count()).where(*where, own).scalar_subquery()
        return compare(n, cond.count)
    # Grouping on an expression keeps SQLite on the (name, occurred_at) index instead of
    # walking every event in customer order; events of no customer form a group joining no one.
    customer = EVENTS.c.customer_id + 0
    rows = (
        select(customer.label("customer_id"), func.count().label("n"))
        .where(*where)
        .group_by(customer)
    )
    n = ctx.outer_join(ctx.key(cond), rows, once=True).c.n
    if not compare(0, cond.count):
        # Zero events fail: compare the raw count so the join can become an inner one.
        return and_(n.isnot(None), compare(n, cond.count))
    return compare(func.coalesce(n, 0), cond.count)


COMPILERS = {"event": _compile}
