"""Typed domain events of customer data, appended to the log by the customers service."""

from __future__ import annotations

from dataclasses import dataclass, field

from patron.events.types import DomainEvent


@dataclass(frozen=True)
class CustomerCreated(DomainEvent):
    """A new customer profile."""

    type = "customer.created"
    external_id: str
    email: str | None


@dataclass(frozen=True)
class CustomerUpdated(DomainEvent):
    """Profile fields of a customer changed."""

    type = "customer.updated"
    external_id: str
    fields: list[str]


@dataclass(frozen=True)
class CustomerDeleted(DomainEvent):
    """A customer and their data were deleted."""

    type = "customer.deleted"
    external_id: str


@dataclass(frozen=True)
class CustomerMerged(DomainEvent):
    """An anonymous visitor's identity (and earlier events) joined a customer."""

    type = "customer.merged"
    anonymous_id: str
    previous_customer_id: int | None


@dataclass(frozen=True)
class ConsentChanged(DomainEvent):
    """A customer's consent on one channel changed."""

    type = "consent.changed"
    channel: str
    status: str
    previous: str
    source: str


@dataclass(frozen=True)
class OrderCompleted(DomainEvent):
    """An order was recorded (or replaced): amounts in minor units, with its lines."""

    type = "order.completed"
    order_id: int
    external_id: str
    status: str
    placed_at: str
    currency: str
    total_cents: int
    discount_cents: int
    coupon_code: str | None
    replaced: bool
    lines: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class OrderRefunded(DomainEvent):
    """Part or all of an order was refunded; amount_cents is this refund's delta."""

    type = "order.refunded"
    order_id: int
    external_id: str
    currency: str
    amount_cents: int
    refunded_cents: int
    total_cents: int


@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    """An order was cancelled and no longer counts as a purchase."""

    type = "order.cancelled"
    order_id: int
    external_id: str
    currency: str
    total_cents: int


@dataclass(frozen=True)
class EventTracked(DomainEvent):
    """A tracked event (track, page, screen ...) was stored for a customer."""

    type = "event.tracked"
    event_type: str
    name: str | None
    message_id: str
    occurred_at: str


EVENT_TYPES = tuple(
    e.type
    for e in (
        CustomerCreated,
        CustomerUpdated,
        CustomerDeleted,
        CustomerMerged,
        ConsentChanged,
        OrderCompleted,
        OrderRefunded,
        OrderCancelled,
        EventTracked,
    )
)


def order_completed(row, *, replaced: bool) -> OrderCompleted:
    """The event of a written order row."""
    return OrderCompleted(
        customer_id=row.customer_id,
        order_id=row.id,
        external_id=row.external_id,
        status=row.status,
        placed_at=row.placed_at.isoformat(),
        currency=row.currency,
        total_cents=row.total_cents,
        discount_cents=row.discount_cents,
        coupon_code=row.coupon_code,
        replaced=replaced,
        lines=[
            {
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price_cents": line.unit_price_cents,
                "total_cents": line.total_cents,
            }
            for line in row.lines
        ],
    )
