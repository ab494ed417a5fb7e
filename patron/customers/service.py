"""Use cases of customer data: profiles, consent, identities, products, orders, events.

Consent lives in `consent.py`, paged and bulk reads in `listing.py`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers import activity, rules
from patron.customers import events as ev
from patron.customers.consent import (
    confirm_consent,
    consent_status,
    double_opt_in,
    record_consents,
    set_consent,
)
from patron.customers.listing import (
    customer_ids,
    get_order,
    get_product,
    line_values,
    list_customers,
    list_orders,
    list_products,
    product_ids,
    stats_of,
)
from patron.customers.stats import rebuild_stats, refresh_stats, touch_last_event
from patron.customers.tables import (
    AnonymousId,
    Customer,
    CustomerStats,
    Event,
    Order,
    OrderLine,
    Product,
)
from patron.errors import Conflict, InvalidInput, NotFound
from patron.events.service import append

__all__ = [
    "confirm_consent",
    "consent_status",
    "customer_ids",
    "double_opt_in",
    "get_order",
    "get_product",
    "line_values",
    "list_customers",
    "list_orders",
    "list_products",
    "product_ids",
    "rebuild_stats",
    "record_consents",
    "refresh_stats",
    "set_consent",
    "stats_of",
]


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


def _profile_values(customer: Customer) -> dict:
    """The profile fields and attributes of a customer, to see what an update changed."""
    values = {name: getattr(customer, name) for name in rules.PROFILE_FIELDS}
    values["attributes"] = dict(customer.attributes or {})
    return values


def create_customer(
    *, session: Session, external_id: str, profile: dict, now: datetime
) -> Customer:
    """Creates a customer; a duplicate external id is a conflict."""
    if find_customer(session=session, external_id=external_id) is not None:
        raise Conflict(f"a customer with external id {external_id!r} exists already")
    return upsert_customer(session=session, external_id=external_id, profile=profile, now=now)


def upsert_customer(
    *, session: Session, external_id: str, profile: dict, now: datetime
) -> Customer:
    """Creates the customer with this external id, or updates the fields given."""
    if not external_id or len(external_id) > 255:
        raise InvalidInput("customer external id must be 1 to 255 characters")
    customer = find_customer(session=session, external_id=external_id)
    if customer is None:
        customer = Customer(external_id=external_id, attributes={}, created_at=now, updated_at=now)
        _apply_profile(customer, profile)
        session.add(customer)
        session.flush()
        session.add(CustomerStats(customer_id=customer.id))
        append(session, [ev.CustomerCreated(customer.id, external_id, customer.email)], now=now)
    else:
        before = _profile_values(customer)
        _apply_profile(customer, profile)
        customer.updated_at = now
        changed = sorted(k for k, v in _profile_values(customer).items() if before[k] != v)
        if changed:
            append(session, [ev.CustomerUpdated(customer.id, external_id, changed)], now=now)
    for channel, status in (profile.get("consent") or {}).items():
        set_consent(
            session=session,
            customer=customer,
            channel=channel,
            status=status,
            source=profile.get("consent_source", "api"),
            now=now,
        )
    session.flush()
    return customer


def update_customer(
    *, session: Session, customer_id: int, profile: dict, now: datetime
) -> Customer:
    """Updates the given fields of an existing customer."""
    customer = get_customer(session=session, customer_id=customer_id)
    return upsert_customer(
        session=session, external_id=customer.external_id, profile=profile, now=now
    )


def delete_customer(*, session: Session, customer_id: int, now: datetime) -> None:
    """Deletes a customer with their orders, events and scores; listeners drop the rest."""
    customer = get_customer(session=session, customer_id=customer_id)
    append(session, [ev.CustomerDeleted(customer_id, customer.external_id)], now=now)
    session.delete(customer)
    session.flush()
    activity.notify(session, [customer_id], now)


def link_anonymous_id(
    *, session: Session, anonymous_id: str, customer_id: int, now: datetime
) -> None:
    """Links an anonymous id to a customer and gives them its earlier events."""
    if not anonymous_id:
        return
    link = session.get(AnonymousId, anonymous_id)
    if link is None:
        session.add(AnonymousId(anonymous_id=anonymous_id, customer_id=customer_id, linked_at=now))
        append(session, [ev.CustomerMerged(customer_id, anonymous_id, None)], now=now)
    elif link.customer_id != customer_id:
        merged = ev.CustomerMerged(customer_id, anonymous_id, link.customer_id)
        link.customer_id, link.linked_at = customer_id, now
        append(session, [merged], now=now)
    # coalesce() keeps SQLite on the anonymous_id index instead of the customer_id one.
    session.execute(
        update(Event)
        .where(Event.anonymous_id == anonymous_id, func.coalesce(Event.customer_id, 0) == 0)
        .values(customer_id=customer_id)
    )
    session.flush()
    refresh_stats(session, customer_ids=[customer_id])


def customer_for_anonymous(*, session: Session, anonymous_id: str) -> int | None:
    """The customer an anonymous id is linked to, if any."""
    link = session.get(AnonymousId, anonymous_id)
    return link.customer_id if link else None


def upsert_product(
    *,
    session: Session,
    sku: str,
    name: str,
    category: str | None,
    price_cents: int,
    currency: str,
    now: datetime,
) -> Product:
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


def _build_lines(session: Session, lines: tuple[rules.LineInput, ...]) -> list[OrderLine]:
    """Order line rows for the given inputs, linked to known products."""
    known = product_ids(session, {line.sku for line in lines if line.sku})
    return [OrderLine(**line_values(None, line, known)) for line in lines]


def record_order(
    *,
    session: Session,
    order: rules.OrderInput,
    now: datetime,
    create_customer_if_missing: bool = True,
) -> tuple[Order, bool]:
    """Creates or replaces an order by external id; returns (order, created)."""
    order = order.validated()
    customer = find_customer(session=session, external_id=order.customer_external_id)
    if customer is None:
        if not create_customer_if_missing:
            raise InvalidInput(f"customer {order.customer_external_id!r} does not exist")
        customer = upsert_customer(
            session=session, external_id=order.customer_external_id, profile={}, now=now
        )
    row = _locked_order(session, order.external_id)
    created = row is None
    old_customer = None if created else row.customer_id
    row = write_order(session=session, order=order, customer_id=customer.id, existing=row, now=now)
    customers_changed(
        session=session, customer_ids={customer.id, old_customer or customer.id}, now=now
    )
    return row, created


def _locked_order(session: Session, external_id: str) -> Order | None:
    """The order with this external id, locked until the transaction ends (PostgreSQL)."""
    query = (
        select(Order)
        .where(Order.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def customers_changed(*, session: Session, customer_ids: set[int], now: datetime) -> None:
    """Brings these customers' aggregates up to date and tells the listeners they changed."""
    refresh_stats(session, customer_ids=customer_ids)
    activity.notify(session, customer_ids, now)


def refund_order(
    *, session: Session, external_id: str, amount_cents: int | None, now: datetime
) -> Order:
    """Refunds an order in full (amount None) or by a further amount."""
    row = _locked_order(session, external_id)
    if row is None:
        raise NotFound(f"order {external_id!r} does not exist")
    if amount_cents is not None and amount_cents <= 0:
        raise InvalidInput("refund amount must be positive")
    refunded = row.total_cents if amount_cents is None else row.refunded_cents + amount_cents
    if refunded > row.total_cents:
        raise InvalidInput(f"refund of {refunded} exceeds the order total {row.total_cents}")
    delta = refunded - row.refunded_cents
    row.refunded_cents = refunded
    row.status = rules.refund_status(row.total_cents, refunded, row.status)
    row.updated_at = now
    session.flush()
    if delta:
        refund = ev.OrderRefunded(
            row.customer_id, row.id, row.external_id, row.currency, delta, refunded, row.total_cents
        )
        append(session, [refund], now=now)
    customers_changed(session=session, customer_ids={row.customer_id}, now=now)
    return row


def cancel_order(*, session: Session, external_id: str, now: datetime) -> Order:
    """Cancels an order so it no longer counts as a purchase."""
    row = _locked_order(session, external_id)
    if row is None:
        raise NotFound(f"order {external_id!r} does not exist")
    if row.status != "cancelled":
        cancel = ev.OrderCancelled(
            row.customer_id, row.id, row.external_id, row.currency, row.total_cents
        )
        append(session, [cancel], now=now)
    row.status, row.updated_at = "cancelled", now
    session.flush()
    customers_changed(session=session, customer_ids={row.customer_id}, now=now)
    return row


def record_event(
    *,
    session: Session,
    message_id: str,
    type_: str,
    name: str | None,
    customer_id: int | None,
    anonymous_id: str | None,
    properties: dict,
    context: dict,
    occurred_at: datetime,
    received_at: datetime,
) -> bool:
    """Stores an event once per message id; returns False for a replay."""
    if session.scalar(select(func.count()).where(Event.message_id == message_id)):
        return False
    try:
        with session.begin_nested():
            session.add(
                Event(
                    message_id=message_id,
                    type=type_,
                    name=name,
                    customer_id=customer_id,
                    anonymous_id=anonymous_id,
                    properties=properties,
                    context=context,
                    occurred_at=occurred_at,
                    received_at=received_at,
                )
            )
    except IntegrityError:
        return False
    if customer_id is not None:
        tracked = ev.EventTracked(customer_id, type_, name, message_id, occurred_at.isoformat())
        append(session, [tracked], now=received_at)
        touch_last_event(session, customer_id=customer_id, occurred_at=occurred_at)
        activity.notify(session, [customer_id], received_at)
    return True


def create_order(
    *,
    session: Session,
    order: rules.OrderInput,
    now: datetime,
    create_customer_if_missing: bool = False,
) -> Order:
    """Creates an order; a duplicate external id is a conflict."""
    if session.scalar(select(Order.id).where(Order.external_id == order.external_id)):
        raise Conflict(f"an order with external id {order.external_id!r} exists already")
    return record_order(
        session=session, order=order, now=now, create_customer_if_missing=create_customer_if_missing
    )[0]


def orders_by_external_id(
    *, session: Session, external_ids: Collection[str], lock: bool = True
) -> dict[str, Order]:
    """The orders with the given external ids, by external id, locked in id order.

    Every caller reads them to replace them: the lock (PostgreSQL) keeps a concurrent writer
    from replacing the lines in between. Pass lock=False only to read.
    """
    if not external_ids:
        return {}
    query = select(Order).where(Order.external_id.in_(sorted(external_ids)))
    if lock:
        query = query.order_by(Order.id).with_for_update()
        query = query.execution_options(populate_existing=True)
    return {row.external_id: row for row in session.scalars(query)}


def write_order(
    *,
    session: Session,
    order: rules.OrderInput,
    customer_id: int,
    existing: Order | None,
    now: datetime,
) -> Order:
    """Creates or replaces an order row; the caller runs customers_changed afterwards."""
    order = order.validated()
    row = existing or Order(external_id=order.external_id, created_at=now)
    if existing is None:
        session.add(row)
    row.customer_id, row.placed_at, row.status = customer_id, order.placed_at, order.status
    row.currency, row.total_cents = rules.check_currency(order.currency), order.total_cents
    row.discount_cents, row.refunded_cents = order.discount_cents, order.refunded_cents
    row.coupon_code, row.source, row.updated_at = order.coupon_code, order.source, now
    if order.lines or existing is None:
        row.lines = _build_lines(session, order.lines)
    session.flush()
    append(session, [ev.order_completed(row, replaced=existing is not None)], now=now)
    return row
