"""Per-recipient metrics of an experiment, set-based: one SQL pass into NumPy arrays.

Revenue is net of refunds (total minus refunded, cancelled and refunded orders left out) over
each exposure's attribution window; the pre-period (same length, before exposure) is the
CUPED covariate. Orders come from `patron.customers.read`; clicks, unsubscribes and
complaints from `patron.messages.read`, over the experiment's own messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from patron.customers.read import COUNTED_EXCLUDED, Customer, Order
from patron.experiments.analysis import Recipients
from patron.experiments.rules import HOLDOUT, HOLDOUT_KEY, ROLLOUT
from patron.experiments.tables import Exposure
from patron.messages import read as messages_read

NET = Order.total_cents - Order.refunded_cents


def _orders(experiment_id: int):
    """Per exposed customer: net revenue and orders in the window, net revenue before."""
    inside = Order.placed_at >= Exposure.exposed_at
    return (
        select(
            Exposure.customer_id.label("customer_id"),
            func.sum(case((inside, NET), else_=0)).label("revenue"),
            func.count(case((inside, 1))).label("orders"),
            func.sum(case((inside, 0), else_=NET)).label("pre"),
        )
        .join(
            Order,
            and_(
                Order.customer_id == Exposure.customer_id,
                Order.placed_at >= Exposure.pre_starts_at,
                Order.placed_at < Exposure.window_ends_at,
                Order.status.not_in(COUNTED_EXCLUDED),
            ),
        )
        .where(Exposure.experiment_id == experiment_id)
        .group_by(Exposure.customer_id)
        .subquery("orders_in")
    )


def _code(keys: list[str]):
    """The recipient's group code in SQL: arm index, HOLDOUT or ROLLOUT."""
    return case(
        (Exposure.phase == "rollout", ROLLOUT),
        (Exposure.arm == HOLDOUT_KEY, HOLDOUT),
        *((Exposure.arm == key, i) for i, key in enumerate(keys)),
        else_=ROLLOUT,
    )


def recipients(
    session: Session, *, experiment_id: int, keys: list[str], source: str, source_ids: list[int]
) -> Recipients:
    """Every exposed customer of the experiment with their metrics."""
    orders = _orders(experiment_id)
    flags = messages_read.activity_by_customer(source=source, source_ids=source_ids)
    z = literal(0)
    rows = session.execute(
        select(
            _code(keys),
            func.coalesce(orders.c.revenue, z),
            func.coalesce(orders.c.pre, z),
            func.coalesce(orders.c.orders, z),
            func.coalesce(flags.c.clicked, z),
            func.coalesce(flags.c.unsubscribed, z),
            func.coalesce(flags.c.complained, z),
        )
        .outerjoin(orders, orders.c.customer_id == Exposure.customer_id)
        .outerjoin(flags, flags.c.customer_id == Exposure.customer_id)
        .where(Exposure.experiment_id == experiment_id)
    ).all()
    data = np.array(rows, dtype=np.float64).reshape(len(rows), 7)
    return Recipients(data[:, 0].astype(np.int64), *(data[:, i] for i in range(1, 7)))


def everyone(
    session: Session, *, now: datetime, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer ids, net revenue in the last `days`, net revenue in the `days` before)."""
    start, pre = now - timedelta(days=days), now - timedelta(days=2 * days)
    inside = Order.placed_at >= start
    orders = (
        select(
            Order.customer_id.label("customer_id"),
            func.sum(case((inside, NET), else_=0)).label("revenue"),
            func.sum(case((inside, 0), else_=NET)).label("pre"),
            func.count(case((inside, 1))).label("orders"),
        )
        .where(
            Order.placed_at >= pre,
            Order.placed_at < now,
            Order.status.not_in(COUNTED_EXCLUDED),
        )
        .group_by(Order.customer_id)
        .subquery("recent")
    )
    rows = session.execute(
        select(
            Customer.id,
            func.coalesce(orders.c.revenue, 0),
            func.coalesce(orders.c.pre, 0),
            func.coalesce(orders.c.orders, 0),
        ).outerjoin(orders, orders.c.customer_id == Customer.id)
    ).all()
    data = np.array(rows, dtype=np.float64).reshape(len(rows), 4)
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2], data[:, 3]
