"""Read-only queries of customer data for dashboard pages: search, orders, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event, Order
from patron.errors import InvalidInput
from patron.web import pagination
from patron.web.pagination import Position

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
    sort_key: Any = None


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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FULL_NAME = func.trim(
    func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
)
# Sort orders of the list: (label, key expression, key type, descending). Missing values sort
# as the epoch or zero, so every key is non-NULL and the cursor compares plainly.
SORTS: dict[str, tuple[str, Any, type, bool]] = {
    # Ids grow with sign-up: the primary key orders newest first without a sort.
    "created": ("Newest", Customer.id, int, True),
    "last_order": (
        "Last order",
        func.coalesce(CustomerStats.last_order_at, literal(EPOCH, Customer.created_at.type)),
        datetime,
        True,
    ),
    "spent": ("Total spent", func.coalesce(CustomerStats.total_spent_cents, 0), int, True),
    "name": (
        "Name",
        func.lower(
            func.coalesce(func.nullif(_FULL_NAME, ""), Customer.email, Customer.external_id)
        ),
        str,
        False,
    ),
}


def sort_key(sort: str, after: Position | None):
    """The key expression of a sort, checking that a cursor was made for it (else 422)."""
    if sort not in SORTS:
        raise InvalidInput(f"sort: choose one of {', '.join(SORTS)}")
    _label, expr, kind, _desc = SORTS[sort]
    if after is not None and not isinstance(after.key, kind):
        raise InvalidInput("cursor is not valid for this sort: start from the first page")
    return expr


def _filtered(query, text: str | None, filters: list):
    """A query narrowed by the search text and the facet filters."""
    if text and text.strip():
        query = query.where(_matches(text))
    return query.where(*filters)


def list_customers(
    *,
    session: Session,
    text: str | None = None,
    filters: list | None = None,
    sort: str = "created",
    after: Position | None = None,
    limit: int = PAGE_SIZE,
) -> list[CustomerRow]:
    """Up to `limit` customers in the sort's order after a cursor, filtered by text and facets."""
    key = sort_key(sort, after)
    descending = SORTS[sort][3]
    order = (key.desc(), Customer.id.desc()) if descending else (key, Customer.id)
    query = (
        select(Customer, CustomerStats, key.label("sort_key"))
        .outerjoin(CustomerStats, CustomerStats.customer_id == Customer.id)
        .where(pagination.beyond(after, key, Customer.id, descending=descending))
        .order_by(*order)
        .limit(limit)
    )
    found = session.execute(_filtered(query, text, filters or [])).all()
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
            sort_key=key_value,
        )
        for c, s, key_value in found
    ]


def count_customers(*, session: Session, text: str | None = None, filters: list | None = None):
    """How many customers the text and facet filters match."""
    query = select(func.count()).select_from(Customer)
    return session.scalar(_filtered(query, text, filters or [])) or 0


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
