"""Helpers of the coupon and referral tests: customers, orders, campaigns, the event pump."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from patron.coupons import service as coupons
from patron.customers import service as customers
from patron.customers.rules import LineInput, OrderInput
from patron.db import transaction
from patron.events import service as events
from patron.manifest import Consumer

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(**delta) -> datetime:
    """T0 shifted."""
    return T0 + timedelta(**delta)


def person(s, name: str, **profile) -> int:
    """A customer's id."""
    profile.setdefault("email", f"{name}@example.com")
    return customers.upsert_customer(session=s, external_id=name, profile=profile, now=T0).id


def campaign(s, name: str = "c", **terms):
    """A campaign: a shared 10% code WELCOME10 unless told."""
    fields = {"kind": "shared", "code": "WELCOME10", "discount_type": "percent", "percent": 10}
    fields.update(terms)
    return coupons.create_campaign(session=s, name=name, now=T0, **fields)


def order(s, customer: str, total: int, when: datetime, *, coupon=None, ref=None, **kw):
    """An order recorded through customers (its event logged at `when`)."""
    data = OrderInput(
        external_id=ref or f"o{next(_ids)}",
        customer_external_id=customer,
        placed_at=when,
        total_cents=total,
        coupon_code=coupon,
        lines=(LineInput(sku="sku-1", unit_price_cents=total, category="shoes"),),
        **kw,
    )
    return customers.record_order(session=s, order=data, now=when)[0]


def pump(db, name: str, types, handle, now: datetime) -> int:
    """Run a consumer over every logged event; returns how many it handled."""
    consumer = Consumer(name, frozenset(types), handle)
    with transaction(db.sessions) as s:
        events.ensure_cursors(s, [name], now=now)
    total = 0
    while True:
        result = events.consume_once(db.sessions, consumer, now=now)
        assert not result.failed
        if not result.handled:
            return total
        total += result.handled
