"""Set-based reads of purchases, views and the catalogue as NumPy arrays (for models).

One SELECT each, fetched whole and turned into arrays column by column: no Python loop over
orders. Timestamps come back as fractional days since the Unix epoch, computed in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Float, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from patron.customers.rules import COUNTED_EXCLUDED
from patron.customers.tables import Event, Order, OrderLine, Product

VIEWED = "Product Viewed"


class epoch_days(FunctionElement):
    """Fractional days since 1970-01-01 UTC of a timestamp."""

    type = Float()
    inherit_cache = True


@compiles(epoch_days)
def _epoch_days_default(element, compiler, **kw):
    """PostgreSQL: seconds since the epoch over 86400."""
    value = compiler.process(next(iter(element.clauses)), **kw)
    return f"(CAST(EXTRACT(EPOCH FROM {value}) AS DOUBLE PRECISION) / 86400.0)"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element, compiler, **kw):
    """SQLite stores naive UTC text: Julian day shifted to the Unix epoch."""
    return f"(julianday({compiler.process(next(iter(element.clauses)), **kw)}) - 2440587.5)"


@dataclass(frozen=True)
class Catalogue:
    """Every product, by id: parallel arrays."""

    product_id: np.ndarray
    sku: np.ndarray
    name: np.ndarray
    category: np.ndarray
    price_cents: np.ndarray


@dataclass(frozen=True)
class PurchaseLines:
    """Counted order lines with a known product: parallel arrays, one entry per line."""

    customer_id: np.ndarray
    order_id: np.ndarray
    product_id: np.ndarray
    day: np.ndarray
    quantity: np.ndarray


@dataclass(frozen=True)
class ProductViews:
    """Product views of identified customers: parallel arrays, one entry per view."""

    customer_id: np.ndarray
    product_id: np.ndarray
    day: np.ndarray


def _columns(rows: list, dtypes: tuple) -> list[np.ndarray]:
    """Columns of fetched rows as arrays of the given dtypes."""
    if not rows:
        return [np.zeros(0, dtype=d) for d in dtypes]
    columns = list(zip(*rows, strict=True))
    return [np.asarray(c, dtype=d) for c, d in zip(columns, dtypes, strict=True)]


def catalogue(session: Session) -> Catalogue:
    """Every product's id, sku, name, category ('' when none) and price."""
    rows = session.execute(
        select(
            Product.id, Product.sku, Product.name, Product.category, Product.price_cents
        ).order_by(Product.id)
    ).all()
    ids, skus, names, cats, prices = _columns(rows, (np.int64, object, object, object, np.int64))
    cats = np.where(cats == None, "", cats).astype(object)  # noqa: E711 (element-wise)
    return Catalogue(ids, skus, names, cats, prices)


def purchase_lines(session: Session, *, before: datetime | None = None) -> PurchaseLines:
    """Lines of counted orders (not cancelled or refunded) placed before `before`, by time."""
    query = (
        select(
            Order.customer_id,
            Order.id,
            OrderLine.product_id,
            epoch_days(Order.placed_at),
            OrderLine.quantity,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.not_in(COUNTED_EXCLUDED), OrderLine.product_id.is_not(None))
        .order_by(Order.placed_at, Order.id)
    )
    if before is not None:
        query = query.where(Order.placed_at < before)
    rows = session.execute(query).all()
    dtypes = (np.int64, np.int64, np.int64, np.float64, np.int64)
    return PurchaseLines(*_columns(rows, dtypes))


def product_views(session: Session, *, before: datetime | None = None) -> ProductViews:
    """'Product Viewed' events of known customers whose product_id names a catalogue sku."""
    sku = Event.properties["product_id"].as_string()
    query = (
        select(Event.customer_id, Product.id, epoch_days(Event.occurred_at))
        .join(Product, Product.sku == sku)
        .where(Event.name == VIEWED, Event.customer_id.is_not(None))
    )
    if before is not None:
        query = query.where(Event.occurred_at < before)
    rows = session.execute(query).all()
    return ProductViews(*_columns(rows, (np.int64, np.int64, np.float64)))
