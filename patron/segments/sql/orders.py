"""SQL of order conditions: customers with a counted order matching the condition."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from patron.customers.read import Order, OrderLine
from patron.customers.rules import COUNTED_EXCLUDED
from patron.segments.conditions.orders import BoughtCondition, CouponCondition

ORDERS, LINES = Order.__table__, OrderLine.__table__


def _counted(ctx, within_days: int | None) -> list:
    """Filters of counted orders, placed in the window, of the restricted customers."""
    where = [ORDERS.c.status.not_in(COUNTED_EXCLUDED), *ctx.restrict(ORDERS.c.customer_id)]
    if within_days is not None:
        where.append(ORDERS.c.placed_at >= ctx.now - timedelta(days=within_days))
    return where


def _customer_key():
    """orders.customer_id as an expression, so SQLite does not scan orders in customer order
    just to get DISTINCT for free (the selective filters should drive the plan)."""
    return (ORDERS.c.customer_id + 0).label("customer_id")


def _compile_bought(cond: BoughtCondition, ctx):
    """Customers with a counted order having a matching line."""
    matching = LINES.c[cond.by].in_(cond.value)
    if ctx.customer_ids is None:
        # Whole base: start from the matching lines (index on category / sku), then orders.
        rows = select(_customer_key()).where(
            ORDERS.c.id.in_(select(LINES.c.order_id).where(matching)),
            *_counted(ctx, cond.within_days),
        )
    else:
        # A few customers: start from their orders, then their lines.
        rows = (
            select(_customer_key())
            .select_from(ORDERS.join(LINES, LINES.c.order_id == ORDERS.c.id))
            .where(matching, *_counted(ctx, cond.within_days))
        )
    return ctx.outer_join(ctx.key(cond), rows.distinct()).c.customer_id.isnot(None)


def _compile_coupon(cond: CouponCondition, ctx):
    """Customers with a counted order carrying the coupon (any non-empty code when none)."""
    code = ORDERS.c.coupon_code
    match = code == cond.code if cond.code else code > ""
    rows = select(_customer_key()).where(match, *_counted(ctx, cond.within_days)).distinct()
    return ctx.outer_join(ctx.key(cond), rows).c.customer_id.isnot(None)


COMPILERS = {"bought": _compile_bought, "coupon": _compile_coupon}
