"""Bulk use cases of customer data: many customers, products, orders and events at once.

Imports write validated inputs here; the demo loader writes generated rows, valid by
construction, with the `load_*` functions (chunked executemany per table, no per-row ORM).
The tracking hot path has its own set-based module, `batch`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from patron.customers import batch, rules, service
from patron.customers import events as ev
from patron.customers.tables import (
    AnonymousId,
    Consent,
    Customer,
    Order,
    OrderLine,
    Product,
)
from patron.errors import InvalidInput
from patron.events.service import append

LOAD_CHUNK = 2000


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
        ids.update(batch.create_customers(session, missing, now=now))
    return ids


def insert_orders(
    *, session: Session, orders: Collection[tuple[rules.OrderInput, int]], now: datetime
) -> dict[str, int]:
    """Inserts new (order, customer id) pairs with their lines in bulk, with an
    `order.completed` event each; returns ids by external id. The caller runs
    customers_changed once for the customers."""
    orders = [(order.validated(), customer_id) for order, customer_id in orders]
    if not orders:
        return {}
    rows = [
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
    ]
    ids = _ids_of_new(session, Order.external_id, rows)
    known = service.product_ids(session, {x.sku for o, _ in orders for x in o.lines if x.sku})
    lines = {
        o.external_id: [service.line_values(ids[o.external_id], x, known) for x in o.lines]
        for o, _ in orders
    }
    _insert_rows(session, OrderLine.__table__, [line for group in lines.values() for line in group])
    append(session, [_completed(row, ids, lines) for row in rows], now=now)
    return ids


def _completed(row: dict, ids: dict[str, int], lines: dict[str, list[dict]]) -> ev.OrderCompleted:
    """The `order.completed` event of an order inserted in bulk."""
    external_id = row["external_id"]
    keys = ("sku", "name", "category", "quantity", "unit_price_cents", "total_cents")
    return ev.OrderCompleted(
        customer_id=row["customer_id"],
        order_id=ids[external_id],
        external_id=external_id,
        status=row["status"],
        placed_at=row["placed_at"].isoformat(),
        currency=row["currency"],
        total_cents=row["total_cents"],
        discount_cents=row["discount_cents"],
        coupon_code=row["coupon_code"],
        replaced=False,
        lines=[{key: line[key] for key in keys} for line in lines[external_id]],
    )


def _insert_rows(session: Session, table, rows: list[dict]) -> None:
    """Insert rows with executemany, in chunks."""
    for start in range(0, len(rows), LOAD_CHUNK):
        session.execute(insert(table), rows[start : start + LOAD_CHUNK])


def _ids_of_new(session: Session, key, rows: list[dict]) -> dict:
    """Insert rows; the new rows' ids by their unique key.

    A plain executemany and a lookup of the ids: on PostgreSQL this is about twice as fast as
    INSERT ... RETURNING over the same rows.
    """
    table = key.class_.__table__
    _insert_rows(session, table, rows)
    keys = [row[key.key] for row in rows]
    ids = {}
    for start in range(0, len(keys), LOAD_CHUNK):
        chunk = keys[start : start + LOAD_CHUNK]
        ids.update(session.execute(select(key, table.c.id).where(key.in_(chunk))).all())
    return ids


def load_products(*, session: Session, products: list[dict], now: datetime) -> dict[str, int]:
    """Insert the products whose SKUs are new (created now unless given); ids of all the SKUs."""
    known = service.product_ids(session, {p["sku"] for p in products})
    new = [{"created_at": now, **p, "updated_at": now} for p in products if p["sku"] not in known]
    return {sku: pid for sku, (pid, _) in known.items()} | _ids_of_new(session, Product.sku, new)


def load_customers(*, session: Session, customers: list[dict]) -> dict[str, int]:
    """Insert new customers' profile rows; their ids by external id.

    Their aggregates are left for `service.rebuild_stats` once their orders are in.
    """
    return _ids_of_new(session, Customer.external_id, customers)


def load_consents(*, session: Session, consents: list[dict]) -> None:
    """Insert consent rows of customers loaded before."""
    _insert_rows(session, Consent.__table__, consents)


def load_orders(*, session: Session, orders: list[dict]) -> dict[str, int]:
    """Insert order rows; their ids by external id. Lines follow with `load_order_lines`."""
    return _ids_of_new(session, Order.external_id, orders)


def load_order_lines(*, session: Session, lines: list[dict]) -> None:
    """Insert order line rows of orders loaded before."""
    _insert_rows(session, OrderLine.__table__, lines)


def load_events(*, session: Session, events: list[dict], links: list[dict]) -> None:
    """Insert event rows (a message id stored already is skipped) and anonymous id links."""
    batch.insert_events(session, events)
    _insert_rows(session, AnonymousId.__table__, links)
