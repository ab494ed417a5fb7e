"""Set-based SQL that computes per-customer aggregates from orders and events."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Date, cast, delete, func, insert, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from patron.customers.rules import COUNTED_EXCLUDED
from patron.customers.tables import Customer, CustomerStats, Event, Order


class utc_day(FunctionElement):
    """The UTC calendar day of a timestamp, portable across SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_default(element, compiler, **kw):
    """PostgreSQL (session time zone is UTC): cast to date."""
    return compiler.process(cast(next(iter(element.clauses)), Date()), **kw)


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):
    """SQLite stores naive UTC text: date() of it."""
    return f"date({compiler.process(next(iter(element.clauses)), **kw)})"


def _counted():
    """Condition: the order counts as a purchase."""
    return Order.status.not_in(COUNTED_EXCLUDED)


def _stats_select(customer_ids: list[int] | None):
    """SELECT producing customer_stats rows for the given customers (all when None)."""
    net = Order.total_cents - Order.refunded_cents
    agg = (
        select(
            Order.customer_id.label("cid"),
            func.min(Order.placed_at).label("first_at"),
            func.max(Order.placed_at).label("last_at"),
            func.count().label("n"),
            func.count(utc_day(Order.placed_at).distinct()).label("days"),
            func.sum(net).label("spent"),
        )
        .where(_counted())
        .group_by(Order.customer_id)
    )
    if customer_ids is not None:
        agg = agg.where(Order.customer_id.in_(customer_ids))
    agg = agg.subquery("agg")
    first_day = (
        select(Order.customer_id.label("cid"), func.sum(net).label("cents"))
        .join(agg, agg.c.cid == Order.customer_id)
        .where(_counted(), utc_day(Order.placed_at) == utc_day(agg.c.first_at))
        .group_by(Order.customer_id)
        .subquery("first_day")
    )
    events = select(Event.customer_id.label("cid"), func.max(Event.occurred_at).label("at"))
    if customer_ids is not None:
        events = events.where(Event.customer_id.in_(customer_ids))
    events = events.group_by(Event.customer_id).subquery("ev")
    query = (
        select(
            Customer.id,
            agg.c.first_at,
            agg.c.last_at,
            func.coalesce(agg.c.n, 0),
            func.coalesce(agg.c.days, 0),
            func.coalesce(agg.c.spent, 0),
            func.coalesce(first_day.c.cents, 0),
            events.c.at,
        )
        .outerjoin(agg, agg.c.cid == Customer.id)
        .outerjoin(first_day, first_day.c.cid == Customer.id)
        .outerjoin(events, events.c.cid == Customer.id)
    )
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    return query


_COLUMNS = [
    "customer_id",
    "first_order_at",
    "last_order_at",
    "order_count",
    "purchase_days",
    "total_spent_cents",
    "first_day_cents",
    "last_event_at",
]


def refresh_stats(session: Session, *, customer_ids: Iterable[int]) -> None:
    """Recompute the aggregates of the given customers from their orders and events."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        session.execute(delete(CustomerStats).where(CustomerStats.customer_id.in_(chunk)))
        session.execute(insert(CustomerStats).from_select(_COLUMNS, _stats_select(chunk)))


def rebuild_stats(session: Session) -> int:
    """Recompute every customer's aggregates from scratch; returns the number of customers."""
    session.execute(delete(CustomerStats))
    session.execute(insert(CustomerStats).from_select(_COLUMNS, _stats_select(None)))
    return session.scalar(select(func.count()).select_from(CustomerStats)) or 0


def touch_last_event(session: Session, *, customer_id: int, occurred_at) -> None:
    """Move a customer's last event time forward to occurred_at if it is later."""
    stats = CustomerStats
    session.execute(
        update(stats)
        .where(
            stats.customer_id == customer_id,
            or_(stats.last_event_at.is_(None), stats.last_event_at < occurred_at),
        )
        .values(last_event_at=occurred_at)
    )
