"""A small shop with planted structure, loaded through customers' bulk loaders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from patron.customers import bulk
from patron.recommendations import synthetic

START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 200.0
NOW = START + timedelta(days=DAYS)


def planted(*, customers: int = 300, lines: int = 1800, seed: int = 3) -> synthetic.Shop:
    """The planted shop of the tests (6 categories of 8 products)."""
    return synthetic.generate(
        customers=customers, lines=lines, categories=6, per_category=8, days=DAYS, seed=seed
    )


def load(session, shop: synthetic.Shop) -> dict:
    """Insert products, customers, orders, lines and views; returns ids by index."""
    it = shop.interactions
    products = [
        {
            "sku": f"P{i:03d}",
            "name": f"Product {i}",
            "category": f"cat{shop.category[i]}",
            "price_cents": int(shop.price[i]),
            "currency": "USD",
        }
        for i in range(it.n_items)
    ]
    pids = bulk.load_products(session=session, products=products, now=START)
    people = [
        {
            "external_id": f"c{u}",
            "email": f"c{u}@example.com",
            "attributes": {},
            "created_at": START,
            "updated_at": START,
        }
        for u in range(it.n_users)
    ]
    cids = bulk.load_customers(session=session, customers=people)
    bought = it.basket >= 0
    baskets, first = np.unique(it.basket[bought], return_index=True)
    users, days = it.user[bought][first], it.day[bought][first]
    orders = [
        {
            "external_id": f"o{b}",
            "customer_id": cids[f"c{u}"],
            "placed_at": START + timedelta(days=float(d)),
            "status": "paid",
            "currency": "USD",
            "total_cents": 1000,
            "discount_cents": 0,
            "refunded_cents": 0,
            "source": "test",
            "created_at": START,
            "updated_at": START,
        }
        for b, u, d in zip(baskets.tolist(), users.tolist(), days.tolist(), strict=True)
    ]
    oids = bulk.load_orders(session=session, orders=orders)
    lines = [
        {
            "order_id": oids[f"o{b}"],
            "product_id": pids[f"P{i:03d}"],
            "sku": f"P{i:03d}",
            "name": None,
            "category": None,
            "quantity": 1,
            "unit_price_cents": 500,
            "total_cents": 500,
        }
        for b, i in zip(it.basket[bought].tolist(), it.item[bought].tolist(), strict=True)
    ]
    bulk.load_order_lines(session=session, lines=lines)
    events = [
        {
            "message_id": f"v{k}",
            "type": "track",
            "name": "Product Viewed",
            "customer_id": cids[f"c{u}"],
            "anonymous_id": None,
            "properties": {"product_id": f"P{i:03d}"},
            "context": {},
            "occurred_at": START + timedelta(days=float(d)),
            "received_at": START + timedelta(days=float(d)),
        }
        for k, (u, i, d) in enumerate(
            zip(
                it.user[~bought].tolist(),
                it.item[~bought].tolist(),
                it.day[~bought].tolist(),
                strict=True,
            )
        )
    ]
    bulk.load_events(session=session, events=events, links=[])
    return {"products": pids, "customers": cids}
