"""Use cases of customer data: profiles, consent, identities, products, orders, events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron import hooks
from patron.customers import rules
from patron.customers.stats import rebuild_stats, refresh_stats, touch_last_event
from patron.customers.tables import (
    AnonymousId,
    Consent,
    Customer,
    CustomerStats,
    Event,
    Order,
    OrderLine,
    Product,
)
from patron.errors import Conflict, InvalidInput, NotFound

__all__ = ["rebuild_stats", "refresh_stats"]


def get_customer(*, session: Session, customer_id: int) -> Customer:
    """Gets a customer by id."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def find_customer(*, session: Session, external_id: str) -> Customer | None:
    """Finds a customer by external id."""
    return session.scalar(select(Customer).where(Customer.external_id == external_id))


def _apply_profile(customer: Customer, profile: dict) -> None:
    """Copy validated profile fields and attributes onto a customer."""
    for name in rules.PROFILE_FIELDS:
        if name not in profile:
            continue
        value = profile[name]
        if name == "email":
            value = rules.check_email(value)
        elif name == "birthday":
            value = rules.parse_birthday(value)
        setattr(customer, name, value)
    if profile.get("attributes"):
        if not isinstance(profile["attributes"], dict):
            raise InvalidInput("attributes must be an object")
        customer.attributes = {**(customer.attributes or {}), **profile["attributes"]}


def create_customer(*, session: Session, external_id: str, profile: dict, now: datetime
                    ) -> Customer:
    """Creates a customer; a duplicate external id is a conflict."""
    if find_customer(session=session, external_id=external_id) is not None:
        raise Conflict(f"a customer with external id {external_id!r} exists already")
    return upsert_customer(session=session, external_id=external_id, profile=profile, now=now)


def upsert_customer(*, session: Session, external_id: str, profile: dict, now: datetime
                    ) -> Customer:
    """Creates the customer with this external id, or updates the fields given."""
    if not external_id or len(external_id) > 255:
        raise InvalidInput("customer external id must be 1 to 255 characters")
    customer = find_customer(session=session, external_id=external_id)
    if customer is None:
        customer = Customer(external_id=external_id, attributes={}, created_at=now,
                            updated_at=now)
        _apply_profile(customer, profile)
        session.add(customer)
        session.flush()
        session.add(CustomerStats(customer_id=customer.id))
    else:
        _apply_profile(customer, profile)
        customer.updated_at = now
    for channel, status in (profile.get("consent") or {}).items():
        set_consent(session=session, customer=customer, channel=channel, status=status,
                    source=profile.get("consent_source", "api"), now=now)
    session.flush()
    return customer


def update_customer(*, session: Session, customer_id: int, profile: dict, now: datetime
                    ) -> Customer:
    """Updates the given fields of an existing customer."""
    customer = get_customer(session=session, customer_id=customer_id)
    return upsert_customer(session=session, external_id=customer.external_id,
                           profile=profile, now=now)


def delete_customer(*, session: Session, customer_id: int) -> None:
    """Deletes a customer with their orders, events and scores."""
    session.delete(get_customer(session=session, customer_id=customer_id))
    session.flush()


def set_consent(*, session: Session, customer: Customer, channel: str, status: str,
                source: str, now: datetime) -> None:
    """Records a customer's consent status on one channel."""
    rules.check_consent(channel, status)
    current = next((c for c in customer.consents if c.channel == channel), None)
    if current is None:
        customer.consents.append(Consent(channel=channel, status=status, updated_at=now,
                                         source=source))
    elif current.status != status:
        current.status, current.updated_at, current.source = status, now, source


def consent_status(customer: Customer, channel: str) -> str:
    """A customer's consent on a channel; unknown when never recorded."""
    return next((c.status for c in customer.consents if c.channel == channel), "unknown")


def link_anonymous_id(*, session: Session, anonymous_id: str, customer_id: int,
                      now: datetime) -> None:
    """Links an anonymous id to a customer and gives them its earlier events."""
    if not anonymous_id:
        return
    link = session.get(AnonymousId, anonymous_id)
    if link is None:
        session.add(AnonymousId(anonymous_id=anonymous_id, customer_id=customer_id,
                                linked_at=now))
    elif link.customer_id != customer_id:
        link.customer_id, link.linked_at = customer_id, now
    session.execute(update(Event).where(Event.anonymous_id == anonymous_id,
                                        Event.customer_id.is_(None))
                    .values(customer_id=customer_id))
    session.flush()
    refresh_stats(session, customer_ids=[customer_id])


def customer_for_anonymous(*, session: Session, anonymous_id: str) -> int | None:
    """The customer an anonymous id is linked to, if any."""
    link = session.get(AnonymousId, anonymous_id)
    return link.customer_id if link else None


def upsert_product(*, session: Session, sku: str, name: str, category: str | None,
                   price_cents: int, currency: str, now: datetime) -> Product:
    """Creates or updates a product by SKU."""
    if not sku:
        raise InvalidInput("product sku is required")
    if price_cents < 0:
        raise InvalidInput("product price must not be negative")
    currency = rules.check_currency(currency)
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        product = Product(sku=sku, created_at=now)
        session.add(product)
    product.name, product.category = name or sku, category
    product.price_cents, product.currency, product.updated_at = price_cents, currency, now
    session.flush()
    return product


def _product_ids(session: Session, skus: set[str]) -> dict[str, tuple[int, str | None]]:
    """Map SKUs to (product id, category) for the products that exist."""
    if not skus:
        return {}
    rows = session.execute(select(Product.sku, Product.id, Product.category)
                           .where(Product.sku.in_(skus)))
    return {sku: (pid, cat) for sku, pid, cat in rows}


def _build_lines(session: Session, lines: tuple[rules.LineInput, ...]) -> list[OrderLine]:
    """Order line rows for the given inputs, linked to known products."""
    known = _product_ids(session, {line.sku for line in lines if line.sku})
    built = []
    for line in lines:
        product_id, category = known.get(line.sku, (None, None))
        built.append(OrderLine(product_id=product_id, sku=line.sku, name=line.name,
                               category=line.category or category, quantity=line.quantity,
                               unit_price_cents=line.unit_price_cents,
                               total_cents=line.total_cents))
    return built


def record_order(*, session: Session, order: rules.OrderInput, now: datetime,
                 create_customer_if_missing: bool = True) -> tuple[Order, bool]:
    """Creates or replaces an order by external id; returns (order, created)."""
    order = order.validated()
    customer = find_customer(session=session, external_id=order.customer_external_id)
    if customer is None:
        if not create_customer_if_missing:
            raise InvalidInput(f"customer {order.customer_external_id!r} does not exist")
        customer = upsert_customer(session=session, external_id=order.customer_external_id,
                                   profile={}, now=now)
    row = session.scalar(select(Order).where(Order.external_id == order.external_id))
    created = row is None
    old_customer = None if created else row.customer_id
    if created:
        row = Order(external_id=order.external_id, created_at=now)
        session.add(row)
    row.customer_id, row.placed_at, row.status = customer.id, order.placed_at, order.status
    row.currency, row.total_cents = rules.check_currency(order.currency), order.total_cents
    row.discount_cents, row.refunded_cents = order.discount_cents, order.refunded_cents
    row.coupon_code, row.source, row.updated_at = order.coupon_code, order.source, now
    if order.lines or created:
        row.lines = _build_lines(session, order.lines)
    session.flush()
    changed = {customer.id, old_customer or customer.id}
    refresh_stats(session, customer_ids=changed)
    hooks.customer_activity(session, changed, now)
    return row, created


def refund_order(*, session: Session, external_id: str, amount_cents: int | None,
                 now: datetime) -> Order:
    """Refunds an order in full (amount None) or by a further amount."""
    row = session.scalar(select(Order).where(Order.external_id == external_id))
    if row is None:
        raise NotFound(f"order {external_id!r} does not exist")
    if amount_cents is not None and amount_cents <= 0:
        raise InvalidInput("refund amount must be positive")
    refunded = row.total_cents if amount_cents is None else row.refunded_cents + amount_cents
    if refunded > row.total_cents:
        raise InvalidInput(f"refund of {refunded} exceeds the order total {row.total_cents}")
    row.refunded_cents = refunded
    row.status = rules.refund_status(row.total_cents, refunded, row.status)
    row.updated_at = now
    session.flush()
    refresh_stats(session, customer_ids=[row.customer_id])
    hooks.customer_activity(session, [row.customer_id], now)
    return row


def cancel_order(*, session: Session, external_id: str, now: datetime) -> Order:
    """Cancels an order so it no longer counts as a purchase."""
    row = session.scalar(select(Order).where(Order.external_id == external_id))
    if row is None:
        raise NotFound(f"order {external_id!r} does not exist")
    row.status, row.updated_at = "cancelled", now
    session.flush()
    refresh_stats(session, customer_ids=[row.customer_id])
    hooks.customer_activity(session, [row.customer_id], now)
    return row


def record_event(*, session: Session, message_id: str, type_: str, name: str | None,
                 customer_id: int | None, anonymous_id: str | None, properties: dict,
                 context: dict, occurred_at: datetime, received_at: datetime) -> bool:
    """Stores an event once per message id; returns False for a replay."""
    if session.scalar(select(func.count()).where(Event.message_id == message_id)):
        return False
    try:
        with session.begin_nested():
            session.add(Event(message_id=message_id, type=type_, name=name,
                              customer_id=customer_id, anonymous_id=anonymous_id,
                              properties=properties, context=context,
                              occurred_at=occurred_at, received_at=received_at))
    except IntegrityError:
        return False
    if customer_id is not None:
        touch_last_event(session, customer_id=customer_id, occurred_at=occurred_at)
        hooks.customer_activity(session, [customer_id], received_at)
    return True


def get_order(*, session: Session, order_id: int) -> Order:
    """Gets an order by id."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order
