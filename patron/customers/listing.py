"""Reads of customer data: customers, products and orders by page or in bulk, line values.

Published through `patron.customers.service`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from patron.customers import rules
from patron.customers.tables import Consent, Customer, CustomerStats, Order, Product
from patron.errors import NotFound


def product_ids(session: Session, skus: set[str]) -> dict[str, tuple[int, str | None]]:
    """Map SKUs to (product id, category) for the products that exist."""
    if not skus:
        return {}
    rows = session.execute(
        select(Product.sku, Product.id, Product.category).where(Product.sku.in_(skus))
    )
    return {sku: (pid, cat) for sku, pid, cat in rows}


def get_order(*, session: Session, order_id: int) -> Order:
    """Gets an order by id."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


def _escape_like(text: str) -> str:
    """Escape LIKE wildcards so a search term matches literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _customer_search(q: str):
    """Case-insensitive match of external id, email or name (portable LIKE on lower())."""
    pattern = f"%{_escape_like(q.strip().lower())}%"
    full_name = func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
    return or_(
        *(
            func.lower(column).like(pattern, escape="\\")
            for column in (Customer.external_id, Customer.email, full_name)
        )
    )


def list_customers(
    *,
    session: Session,
    q: str | None = None,
    email_consent: str | None = None,
    min_orders: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Customer]:
    """Lists customers by id after `after_id`, optionally searched and filtered."""
    query = select(Customer).order_by(Customer.id).limit(limit)
    if after_id is not None:
        query = query.where(Customer.id > after_id)
    if q and q.strip():
        query = query.where(_customer_search(q))
    if email_consent is not None:
        rules.check_consent("email", email_consent)
        given = select(Consent.customer_id).where(Consent.channel == "email")
        matching = given.where(Consent.status == email_consent)
        query = query.where(
            Customer.id.in_(matching)
            if email_consent != "unknown"
            else or_(Customer.id.in_(matching), Customer.id.not_in(given))
        )
    if min_orders is not None:
        query = query.join(CustomerStats, CustomerStats.customer_id == Customer.id).where(
            CustomerStats.order_count >= min_orders
        )
    return list(session.scalars(query))


def stats_of(*, session: Session, customer_ids: Collection[int]) -> dict[int, CustomerStats]:
    """The aggregates of the given customers, by customer id."""
    if not customer_ids:
        return {}
    rows = session.scalars(
        select(CustomerStats).where(CustomerStats.customer_id.in_(list(customer_ids)))
    )
    return {row.customer_id: row for row in rows}


def get_product(*, session: Session, sku: str) -> Product:
    """Gets a product by SKU."""
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"product {sku!r} does not exist")
    return product


def list_products(
    *, session: Session, category: str | None = None, after_id: int | None = None, limit: int = 50
) -> list[Product]:
    """Lists products by id after `after_id`, optionally of one category."""
    query = select(Product).order_by(Product.id).limit(limit)
    if after_id is not None:
        query = query.where(Product.id > after_id)
    if category is not None:
        query = query.where(Product.category == category)
    return list(session.scalars(query))


def list_orders(
    *,
    session: Session,
    customer_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Order]:
    """Lists orders by id after `after_id`, optionally of one customer."""
    query = select(Order).order_by(Order.id).limit(limit)
    if after_id is not None:
        query = query.where(Order.id > after_id)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    return list(session.scalars(query))


def customer_ids(*, session: Session, external_ids: Collection[str]) -> dict[str, int]:
    """Ids of the existing customers with the given external ids, by external id."""
    if not external_ids:
        return {}
    return dict(
        session.execute(
            select(Customer.external_id, Customer.id).where(
                Customer.external_id.in_(list(external_ids))
            )
        ).all()
    )


def line_values(
    order_id: int | None, line: rules.LineInput, known: dict[str, tuple[int, str | None]]
) -> dict:
    """Column values of one order line, linked to its product when the SKU is known."""
    product_id, category = known.get(line.sku, (None, None))
    return dict(
        order_id=order_id,
        product_id=product_id,
        sku=line.sku,
        name=line.name,
        category=line.category or category,
        quantity=line.quantity,
        unit_price_cents=line.unit_price_cents,
        total_cents=line.total_cents,
    )
