"""Bulk use cases of customer data for imports: many customers, products and orders at once."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from patron.customers import rules, service
from patron.customers.tables import Customer, CustomerStats, Order, OrderLine, Product
from patron.errors import InvalidInput


def customers_by_external_id(
    *, session: Session, external_ids: Collection[str]
) -> dict[str, Customer]:
    """The customers with the given external ids, by external id."""
    if not external_ids:
        return {}
    rows = session.scalars(select(Customer).where(Customer.external_id.in_(list(external_ids))))
    return {row.external_id: row for row in rows}


def products_by_sku(*, session: Session, skus: Collection[str]) -> dict[str, Product]:
    """The products with the given SKUs, by SKU."""
    if not skus:
        return {}
    return {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(list(skus))))}


def ensure_customers(
    *, session: Session, external_ids: Collection[str], now: datetime
) -> dict[str, int]:
    """Ids of customers by external id, creating missing ones (empty profiles) in bulk."""
    wanted = set(external_ids)
    ids = service.customer_ids(session=session, external_ids=wanted)
    missing = sorted(wanted - set(ids))
    if any(not ext or len(ext) > 255 for ext in missing):
        raise InvalidInput("customer external id must be 1 to 255 characters")
    if missing:
        created = dict(
            session.execute(
                insert(Customer).returning(Customer.external_id, Customer.id),
                [
                    dict(external_id=ext, attributes={}, created_at=now, updated_at=now)
                    for ext in missing
                ],
            ).all()
        )
        session.execute(insert(CustomerStats), [{"customer_id": cid} for cid in created.values()])
        ids.update(created)
    return ids


def insert_orders(
    *, session: Session, orders: Collection[tuple[rules.OrderInput, int]], now: datetime
) -> dict[str, int]:
    """Inserts new (order, customer id) pairs with their lines in bulk; returns ids by
    external id. The caller runs refresh_stats once for the customers."""
    orders = [(order.validated(), customer_id) for order, customer_id in orders]
    if not orders:
        return {}
    ids = dict(
        session.execute(
            insert(Order).returning(Order.external_id, Order.id),
            [
                dict(
                    external_id=o.external_id,
                    customer_id=cid,
                    placed_at=o.placed_at,
                    status=o.status,
                    currency=rules.check_currency(o.currency),
                    total_cents=o.total_cents,
                    discount_cents=o.discount_cents,
                    refunded_cents=o.refunded_cents,
                    coupon_code=o.coupon_code,
                    source=o.source,
                    created_at=now,
                    updated_at=now,
                )
                for o, cid in orders
            ],
        ).all()
    )
    known = service.product_ids(session, {x.sku for o, _ in orders for x in o.lines if x.sku})
    lines = [service.line_values(ids[o.external_id], x, known) for o, _ in orders for x in o.lines]
    if lines:
        session.execute(insert(OrderLine), lines)
    return ids
