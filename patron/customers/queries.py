"""Read-only queries of customer data for dashboard pages: search, orders, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event, Order

PAGE_SIZE = 50


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customer list."""

    id: int
    external_id: str
    email: str | None
    name: str
    created_at: datetime
    order_count: int
    total_spent_cents: int
    last_order_at: datetime | None


def _matches(text: str):
    """Condition: the customer's email, name, external id or id contains text."""
    needle = text.strip().lower()
    full_name = func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
    conditions = [
        func.lower(column).contains(needle, autoescape=True)
        for column in (Customer.email, Customer.external_id, full_name)
    ]
    if needle.isdigit():
        conditions.append(Customer.id == int(needle))
    return or_(*conditions)


def search_customers(
    *, session: Session, text: str | None = None, before: int | None = None, limit: int = PAGE_SIZE
) -> list[CustomerRow]:
    """Lists up to `limit` customers newest first (by id), filtered by text, ids below `before`."""
    query = (
        select(Customer, CustomerStats)
        .outerjoin(CustomerStats, CustomerStats.customer_id == Customer.id)
        .order_by(Customer.id.desc())
        .limit(limit)
    )
    if text and text.strip():
        query = query.where(_matches(text))
    if before is not None:
        query = query.where(Customer.id < before)
    found = session.execute(query).all()
    return [
        CustomerRow(
            id=c.id,
            external_id=c.external_id,
            email=c.email,
            name=display_name(c),
            created_at=c.created_at,
            order_count=s.order_count if s else 0,
            total_spent_cents=s.total_spent_cents if s else 0,
            last_order_at=s.last_order_at if s else None,
        )
        for c, s in found
    ]


def display_name(customer: Customer) -> str:
    """The customer's full name, or their email or external id when unnamed."""
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return name or customer.email or customer.external_id


def customer_stats(*, session: Session, customer_id: int) -> CustomerStats | None:
    """The customer's aggregates."""
    return session.get(CustomerStats, customer_id)


def customer_orders(*, session: Session, customer_id: int, limit: int = 50) -> list[Order]:
    """The customer's latest orders with their lines, newest first."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


def customer_events(*, session: Session, customer_id: int, limit: int = 25) -> list[Event]:
    """The customer's latest events, newest first."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.customer_id == customer_id)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def anonymous_ids(*, session: Session, customer_id: int) -> list[str]:
    """Anonymous visitor ids linked to the customer."""
    return list(
        session.scalars(
            select(AnonymousId.anonymous_id)
            .where(AnonymousId.customer_id == customer_id)
            .order_by(AnonymousId.linked_at)
        )
    )
