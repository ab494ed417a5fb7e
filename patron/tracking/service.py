"""Use cases of the tracking API: check write keys, store a batch of messages once."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from patron.auth import service as auth_service
from patron.customers import activity, batch
from patron.customers import rules as customer_rules
from patron.customers import service as customers
from patron.db import transaction
from patron.tracking import rules
from patron.tracking.ecommerce import OrderData
from patron.tracking.rules import Message

log = logging.getLogger("patron.tracking")
ATTEMPTS = 3


class WriteKeys:
    """Checks write keys (API keys with the track scope), remembering good ones for ttl seconds.

    A revoked key may thus keep working for up to ttl seconds in a running process.
    """

    def __init__(self, ttl: float = 30.0, clock=time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._good: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, *, factory: sessionmaker, key: str) -> int:
        """Returns the key's id, or raises Unauthorized/Forbidden."""
        now = self.clock()
        hit = self._good.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        key_id = auth_service.authenticate_key(factory=factory, key=key, scope="track")
        with self._lock:
            if len(self._good) > 1000:
                self._good.clear()
            self._good[key] = (key_id, now + self.ttl)
        return key_id


def writer_gate(engine: Engine) -> AbstractContextManager:
    """What ingest holds while it writes: a lock on SQLite, nothing on PostgreSQL.

    SQLite has one writer at a time; threads of one process that queue on a lock wake as
    soon as it is free, while SQLite's busy handler would sleep in growing steps.
    """
    return threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()


def ingest(
    *,
    factory: sessionmaker,
    messages: list[Message],
    now: datetime,
    gate: AbstractContextManager | None = None,
) -> int:
    """Stores messages in one transaction, retried when a concurrent writer got in the way."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with gate or nullcontext(), transaction(factory) as session:
                return write_messages(session=session, messages=messages, now=now)
        except (IntegrityError, OperationalError) as exc:
            if attempt == ATTEMPTS:
                raise
            log.info("retrying a tracking batch after %s", type(exc).__name__)
    raise AssertionError("unreachable")


def write_messages(*, session: Session, messages: list[Message], now: datetime) -> int:
    """Stores the messages not stored before; returns how many were new.

    Customers named by userId are found or created for the whole batch at once; identify,
    alias and order events then take the per-message customer path; anonymous ids are
    linked for the whole batch; and every message becomes an event row in one insert.
    """
    batch.plan_for_values(session)
    stored = batch.existing_message_ids(session, [m.message_id for m in messages])
    fresh = [m for m in messages if m.message_id not in stored]
    if not fresh:
        return 0
    by_user = batch.customer_ids(session, [m.user_id for m in fresh if m.user_id], now=now)
    slow = [m for m in fresh if m.type in ("identify", "alias") or m.order is not None]
    latest, buyers = _apply_all(session, slow, by_user, now) if slow else ({}, set())
    by_anonymous = batch.linked_customers(
        session, [m.anonymous_id for m in fresh if m.anonymous_id and not m.user_id]
    )
    rows = []
    for msg in fresh:
        cid = by_user[msg.user_id] if msg.user_id else by_anonymous.get(msg.anonymous_id)
        rows.append(_event_row(msg, cid, now))
        if cid is not None and (cid not in latest or latest[cid] < msg.occurred_at):
            latest[cid] = msg.occurred_at
    batch.insert_events(session, rows)
    batch.announce_events(session, [r["message_id"] for r in rows], received_at=now)
    batch.touch_last_events(session, latest)
    # Listeners (segment memberships) hear once per batch of every customer with new events.
    if buyers:
        customers.customers_changed(session=session, customer_ids=buyers, now=now)
    activity.notify(session, set(latest) - buyers, now)
    return len(fresh)


def _apply_all(
    session: Session, slow: list[Message], by_user: dict[str, int], now: datetime
) -> tuple[dict[int, datetime], set[int]]:
    """Apply identify, alias and order events in order.

    Returns the latest event time of customers given anonymous events, and the customers
    whose orders were written (their aggregates are refreshed once the events are in).
    """
    links = Links(
        batch.linked_customers(
            session,
            [m.anonymous_id or m.previous_id for m in slow if m.anonymous_id or m.previous_id],
        )
    )
    profiles = Profiles(
        session,
        [by_user[m.user_id] for m in slow if m.type == "identify" and m.user_id and m.profile],
    )
    orders = customers.orders_by_external_id(
        session=session, external_ids={m.order.order_id for m in slow if m.order}, lock=True
    )
    buyers: set[int] = set()
    for msg in slow:
        customer_id = by_user.get(msg.user_id) if msg.user_id else links.customer(msg.anonymous_id)
        if msg.type == "identify":
            _identify(msg, customer_id, links, profiles)
        elif msg.type == "alias":
            links.link(msg.previous_id, customer_id)
        elif msg.order.action == "refund":
            _refund_order(session, msg.order, now, orders)
        elif customer_id is None:
            log.warning("order %s of an unknown visitor kept as an event only", msg.order.order_id)
        else:
            buyers.update(_complete_order(session, msg, customer_id, now, orders))
    batch.save_profiles(session, profiles.changed(), now=now)
    return batch.link_anonymous_ids(session, links.new, now=now), buyers


class Links:
    """Anonymous id -> customer links as known so far in a batch, and the new ones to make."""

    def __init__(self, known: dict[str, int]):
        self.known, self.new = known, {}

    def customer(self, anonymous_id: str | None) -> int | None:
        """The customer an anonymous id belongs to, if any."""
        return self.known.get(anonymous_id) if anonymous_id else None

    def link(self, anonymous_id: str, customer_id: int) -> None:
        """Link an anonymous id to a customer unless it is linked to them already."""
        if self.known.get(anonymous_id) != customer_id:
            self.known[anonymous_id] = self.new[anonymous_id] = customer_id


def _event_row(msg: Message, customer_id: int | None, now: datetime) -> dict:
    """The events table row of a message."""
    return {
        "message_id": msg.message_id,
        "type": msg.type,
        "name": msg.name,
        "customer_id": customer_id,
        "anonymous_id": msg.anonymous_id,
        "properties": msg.properties,
        "context": msg.context,
        "occurred_at": msg.occurred_at,
        "received_at": now,
    }


class Profiles:
    """Customers' profile fields as a batch of identify calls changes them, saved at the end.

    Applying traits here and writing each changed customer once, in one statement, keeps
    identify off the per-row ORM path (it is a large share of a typical batch).
    """

    def __init__(self, session: Session, customer_ids: list[int]):
        self.session = session
        self.current = batch.profiles(session, customer_ids)
        self.dirty: set[int] = set()

    def apply(self, customer_id: int, profile: dict) -> None:
        """Apply an identify's profile to a customer, if it changes anything."""
        if customer_id not in self.current:
            self.current.update(batch.profiles(self.session, [customer_id]))
        if rules.profile_differs(self.current[customer_id], profile):
            self.current[customer_id] = rules.merged_profile(self.current[customer_id], profile)
            self.dirty.add(customer_id)

    def changed(self) -> dict[int, dict]:
        """The profiles to write."""
        return {cid: self.current[cid] for cid in self.dirty}


def _identify(msg: Message, customer_id: int | None, links: Links, profiles: Profiles) -> None:
    """Apply traits to the customer and link the anonymous id to them."""
    if customer_id is None:
        return
    if msg.user_id and msg.anonymous_id:
        links.link(msg.anonymous_id, customer_id)
    if msg.profile:
        profiles.apply(customer_id, msg.profile)


def _complete_order(
    session: Session, msg: Message, customer_id: int, now: datetime, orders: dict
) -> set[int]:
    """Write the order of an `Order Completed` event, keeping refunds made earlier.

    Returns the customers whose aggregates need refreshing (the buyer and a former one).
    """
    order, existing = msg.order, orders.get(msg.order.order_id)
    refunded = min(existing.refunded_cents, order.total_cents) if existing else 0
    lines = tuple(
        customer_rules.LineInput(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            name=line.name,
            category=line.category,
        )
        for line in order.lines
    )
    previous_owner = existing.customer_id if existing else customer_id
    external_id = (
        msg.user_id or customers.get_customer(session=session, customer_id=customer_id).external_id
    )
    orders[order.order_id] = customers.write_order(
        session=session,
        customer_id=customer_id,
        existing=existing,
        now=now,
        order=customer_rules.OrderInput(
            external_id=order.order_id,
            customer_external_id=external_id,
            placed_at=msg.occurred_at,
            total_cents=order.total_cents,
            currency=order.currency,
            status=customer_rules.refund_status(order.total_cents, refunded, "paid"),
            discount_cents=order.discount_cents,
            refunded_cents=refunded,
            coupon_code=order.coupon,
            source="tracking",
            lines=lines,
        ),
    )
    return {customer_id, previous_owner}


def _refund_order(session: Session, order: OrderData, now: datetime, orders: dict) -> None:
    """Refund an order in full or by the event's amount (capped at what is left)."""
    row = orders.get(order.order_id)
    if row is None:
        log.warning("refund of unknown order %s kept as an event only", order.order_id)
        return
    if row.refunded_cents >= row.total_cents:
        return
    amount = order.total_cents
    if amount is not None and row.refunded_cents + amount >= row.total_cents:
        amount = None
    customers.refund_order(
        session=session, external_id=order.order_id, amount_cents=amount, now=now
    )
