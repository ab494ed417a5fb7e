"""Set-based SQL of the analytics service: aggregates, KPI counts, cohort pairs, score reads.

This module reads other capabilities' tables (orders, customer_stats) directly because the
aggregations must run inside the database as SQL (COUNT, SUM, GROUP BY); going through their
services would mean a Python loop over orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import INTEGER, Float, String, case, exists, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from patron.analytics.tables import CustomerScore
from patron.customers.read import Customer, CustomerStats, Order
from patron.customers.rules import COUNTED_EXCLUDED


class month_of(FunctionElement):
    """The UTC calendar month 'YYYY-MM' of a timestamp, portable across SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_of_default(element, compiler, **kw):
    """PostgreSQL (session time zone is UTC): to_char."""
    return f"to_char({compiler.process(next(iter(element.clauses)), **kw)}, 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    """SQLite stores naive UTC text: strftime of it."""
    return f"strftime('%Y-%m', {compiler.process(next(iter(element.clauses)), **kw)})"


class epoch_days(FunctionElement):
    """Fractional days since 1970-01-01 UTC of a timestamp, as a float (NULL stays NULL)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_days)
def _epoch_days_default(element, compiler, **kw):
    """PostgreSQL: seconds since the epoch over 86400."""
    value = compiler.process(next(iter(element.clauses)), **kw)
    return f"(CAST(EXTRACT(EPOCH FROM {value}) AS DOUBLE PRECISION) / 86400.0)"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element, compiler, **kw):
    """SQLite: Julian day number shifted to the Unix epoch."""
    return f"(julianday({compiler.process(next(iter(element.clauses)), **kw)}) - 2440587.5)"


def counted():
    """Condition: the order counts as a purchase (not cancelled, not fully refunded)."""
    return Order.status.not_in(COUNTED_EXCLUDED)


def net_cents():
    """An order's value net of refunds."""
    return Order.total_cents - Order.refunded_cents


@dataclass(frozen=True)
class Aggregates:
    """Per-customer stored aggregates as NumPy arrays, one entry per customer, by id."""

    customer_id: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    order_count: np.ndarray
    purchase_days: np.ndarray
    total_cents: np.ndarray
    first_day_cents: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.size)


def _numeric_rows(session: Session, query, width: int) -> np.ndarray:
    """Run a query of numeric columns on the raw driver cursor into a float 2-D array.

    Skipping SQLAlchemy's row objects and building one array from the tuples is ~4x faster on
    a million rows (NULL becomes NaN).
    """
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return np.array(rows, dtype=float) if rows else np.empty((0, width))


def load_aggregates(session: Session) -> Aggregates:
    """Load every customer's stored aggregates in one query (no stats row: no orders)."""
    stats = CustomerStats
    query = select(
        stats.customer_id,
        epoch_days(stats.first_order_at),
        epoch_days(stats.last_order_at),
        stats.order_count,
        stats.purchase_days,
        stats.total_spent_cents,
        stats.first_day_cents,
    )
    data = _numeric_rows(session, query, 7)
    no_stats = session.scalars(
        select(Customer.id).where(~exists().where(stats.customer_id == Customer.id))
    ).all()
    if no_stats:
        extra = np.zeros((len(no_stats), 7))
        extra[:, 0], extra[:, 1:3] = no_stats, np.nan
        data = np.vstack([data, extra])
    data = data[np.argsort(data[:, 0], kind="stable")]
    ints = data[:, [0, 3, 4, 5, 6]].astype(np.int64)
    return Aggregates(
        customer_id=ints[:, 0],
        first_day=data[:, 1],
        last_day=data[:, 2],
        order_count=ints[:, 1],
        purchase_days=ints[:, 2],
        total_cents=ints[:, 3],
        first_day_cents=ints[:, 4],
    )


def activity_pairs(
    session: Session, *, first_since: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (customer, month) pairs with a counted order before end, of the customers whose
    first counted order is on or after first_since; months as datetime64[M]."""
    month = month_of(Order.placed_at)
    query = (
        select(Order.customer_id, month)
        .join(CustomerStats, CustomerStats.customer_id == Order.customer_id)
        .where(counted(), CustomerStats.first_order_at >= first_since, Order.placed_at < end)
        .distinct()
    )
    rows = session.execute(query).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype="datetime64[M]")
    ids, months = zip(*rows, strict=True)
    return np.array(ids, dtype=np.int64), np.array(months, dtype="datetime64[M]")


def window_counts(session: Session, *, edges: list[datetime]) -> list[dict[str, int]]:
    """Counts per window [edges[k], edges[k+1]) in one query over counted orders.

    Per window: customers who bought (``active``), orders, revenue net of refunds, customers with
    two or more orders in it (``repeat``), customers who also bought in the window before
    (``retained``, 0 for the first window) and customers whose first order ever is in it.
    """
    k_windows = len(edges) - 1
    bucket = case(*[(Order.placed_at >= edges[k], k) for k in range(k_windows - 1, 0, -1)], else_=0)
    per_customer = (
        select(
            Order.customer_id.label("cid"),
            *[func.sum(case((bucket == k, 1), else_=0)).label(f"n{k}") for k in range(k_windows)],
            *[
                func.sum(case((bucket == k, net_cents()), else_=0)).label(f"v{k}")
                for k in range(k_windows)
            ],
        )
        .where(counted(), Order.placed_at >= edges[0], Order.placed_at < edges[-1])
        .group_by(Order.customer_id)
        .subquery("per_customer")
    )
    c, first = per_customer.c, CustomerStats.first_order_at
    columns = []
    for k in range(k_windows):
        n = c[f"n{k}"]
        retained = (n > 0) & (c[f"n{k - 1}"] > 0) if k else literal(False)
        is_first = (first >= edges[k]) & (first < edges[k + 1])
        columns += [
            _total(n > 0),
            func.coalesce(func.sum(n), 0),
            func.coalesce(func.sum(c[f"v{k}"]), 0),
            _total(n >= 2),
            _total(retained),
            _total(is_first),
        ]
    row = session.execute(
        select(*columns).select_from(
            per_customer.outerjoin(CustomerStats, CustomerStats.customer_id == c.cid)
        )
    ).one()
    names = ("active", "orders", "revenue_cents", "repeat", "retained", "first_time")
    return [
        {name: int(row[6 * k + i] or 0) for i, name in enumerate(names)} for k in range(k_windows)
    ]


def _total(condition):
    """Number of rows meeting a condition (SUM of CASE: portable, unlike FILTER)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def rfm_cells(session: Session) -> list[tuple[int, int, str, int]]:
    """Customers per (R score, FM score, segment) cell of the stored scores."""
    score = CustomerScore
    # Inline integers: PostgreSQL matches GROUP BY to SELECT only if no bind parameters differ.
    fm = (score.frequency_score + score.monetary_score + literal_column("1")) // literal_column("2")
    query = (
        select(score.recency_score, fm, score.rfm_segment, func.count())
        .where(score.recency_score.is_not(None))
        .group_by(score.recency_score, fm, score.rfm_segment)
    )
    return [(int(r), int(f), s, int(n)) for r, f, s, n in session.execute(query)]


def clv_cap(session: Session, *, quantile: float = 0.99) -> tuple[int, int]:
    """Number of customers with a predicted CLV and the CLV at the given quantile."""
    value = CustomerScore.predicted_clv_cents
    n = session.scalar(select(func.count()).where(value.is_not(None))) or 0
    if not n:
        return 0, 0
    cap = session.scalar(
        select(value)
        .where(value.is_not(None))
        .order_by(value)
        .offset(min(int(quantile * n), n - 1))
        .limit(1)
    )
    return int(n), int(cap or 0)


def clv_bins(session: Session, *, width: int, bins: int) -> dict[int, int]:
    """Customers per CLV bin of the given width in cents; the last bin holds everything above."""
    value = CustomerScore.predicted_clv_cents
    top, size = literal_column(str(int(bins) - 1)), literal_column(str(int(width)))
    index = case((value >= size * top, top), else_=value // size)
    rows = session.execute(select(index, func.count()).where(value.is_not(None)).group_by(index))
    return {int(i): int(n) for i, n in rows}


def churn_risk_rows(session: Session, *, limit: int) -> list[dict]:
    """Customers by churn risk times historical spend (value at risk), highest first."""
    score, stats = CustomerScore, CustomerStats
    at_risk = score.churn_risk * stats.total_spent_cents
    query = (
        select(
            Customer.id,
            Customer.email,
            Customer.first_name,
            Customer.last_name,
            score.churn_risk,
            score.lifecycle_stage,
            score.rfm_segment,
            score.predicted_clv_cents,
            stats.total_spent_cents,
            stats.last_order_at,
            at_risk.label("value_at_risk"),
        )
        .join(score, score.customer_id == Customer.id)
        .join(stats, stats.customer_id == Customer.id)
        .where(score.churn_risk.is_not(None))
        .order_by(at_risk.desc(), Customer.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def clv_decile_rows(session: Session) -> dict[int, tuple[int, int]]:
    """(customers, summed predicted CLV) per CLV decile 0-9 of the stored percentiles."""
    p = CustomerScore.clv_percentile
    nine, ten = literal_column("9"), literal_column("10.0")
    index = case((p >= literal_column("90"), nine), else_=func.cast(p / ten, INTEGER))
    rows = session.execute(
        select(index, func.count(), func.coalesce(func.sum(CustomerScore.predicted_clv_cents), 0))
        .where(p.is_not(None))
        .group_by(index)
    )
    return {int(i): (int(n), int(total)) for i, n, total in rows}
