"""Headline figures of the overview page, computed with set-based SQL on SQLite and PostgreSQL.

This module compiles read-only aggregate queries over the customers capability's tables
(orders, customers, customer_stats): counting and summing in the database is the only way
to keep the overview fast on a large shop, and customers.service offers no such queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers.read import COUNTED_EXCLUDED, Customer, CustomerStats, Order, utc_day
from patron.dashboard.periods import Period


@dataclass(frozen=True)
class Figures:
    """Headline figures of one period; money in cents net of refunds, counted orders only."""

    customers_total: int
    buyers: int
    new_buyers: int
    repeat_buyers: int
    orders: int
    revenue_cents: int

    @property
    def repeat_rate(self) -> float | None:
        """Share of the period's buyers who placed a repeat order (not their first) in it."""
        return self.repeat_buyers / self.buyers if self.buyers else None

    @property
    def average_order_cents(self) -> int | None:
        """Average net value of the period's counted orders."""
        return round(self.revenue_cents / self.orders) if self.orders else None


@dataclass(frozen=True)
class Overview:
    """Figures of a period beside those of the period before, and daily revenue."""

    period: Period
    previous: Period
    current: Figures
    before: Figures
    daily_revenue: list[tuple[date, int]]


def _in_range(column, start: datetime, end: datetime):
    """Condition: start <= column < end."""
    return (column >= start) & (column < end)


def _counted_in(start: datetime, end: datetime):
    """Condition: a counted order (neither cancelled nor refunded) placed in the range."""
    return Order.status.not_in(COUNTED_EXCLUDED) & _in_range(Order.placed_at, start, end)


def figures(*, session: Session, start: datetime, end: datetime) -> Figures:
    """Computes the headline figures of orders placed in [start, end)."""
    orders, buyers, revenue = session.execute(
        select(
            func.count(),
            func.count(Order.customer_id.distinct()),
            func.coalesce(func.sum(Order.total_cents - Order.refunded_cents), 0),
        ).where(_counted_in(start, end))
    ).one()
    repeat = session.scalar(
        select(func.count(Order.customer_id.distinct()))
        .join(CustomerStats, CustomerStats.customer_id == Order.customer_id)
        .where(_counted_in(start, end), Order.placed_at > CustomerStats.first_order_at)
    )
    new = session.scalar(
        select(func.count())
        .select_from(CustomerStats)
        .where(_in_range(CustomerStats.first_order_at, start, end))
    )
    total = session.scalar(
        select(func.count()).select_from(Customer).where(Customer.created_at < end)
    )
    return Figures(
        customers_total=total or 0,
        buyers=buyers,
        new_buyers=new or 0,
        repeat_buyers=repeat or 0,
        orders=orders,
        revenue_cents=int(revenue),
    )


def daily_revenue(*, session: Session, period: Period) -> list[tuple[date, int]]:
    """Net revenue of each UTC day of the period, days without orders included as 0."""
    start, end = period.bounds
    day = utc_day(Order.placed_at)
    rows = session.execute(
        select(day, func.sum(Order.total_cents - Order.refunded_cents))
        .where(_counted_in(start, end))
        .group_by(day)
    )
    # SQLite answers with ISO text, PostgreSQL with a date.
    by_day = {d if isinstance(d, date) else date.fromisoformat(d): int(c) for d, c in rows}
    return [(d, by_day.get(d, 0)) for d in period.dates()]


def overview(*, session: Session, period: Period) -> Overview:
    """Computes the overview of a period beside the period of equal length before it."""
    previous = period.previous()
    return Overview(
        period=period,
        previous=previous,
        current=figures(session=session, start=period.bounds[0], end=period.bounds[1]),
        before=figures(session=session, start=previous.bounds[0], end=previous.bounds[1]),
        daily_revenue=daily_revenue(session=session, period=period),
    )
