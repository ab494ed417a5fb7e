"""Fixtures of segment tests: a seeded random data set stored in the database and as facts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from patron.analytics.read import CustomerScore
from patron.customers.read import (
    Consent,
    Customer,
    CustomerStats,
    Event,
    Order,
    OrderLine,
    Product,
)
from patron.db import transaction
from patron.segments.facts import EventFact, Facts, LineFact, OrderFact

NOW = datetime(2025, 2, 20, 9, 30, tzinfo=UTC)
TEXTS = (
    "gold",
    "Gold",
    "silver",
    "go",
    "ann",
    "Ann",
    "bo_b",
    "50%",
    "2024-05-01",
    "2025-01-15T10:00:00Z",
)
ATTR_VALUES = (
    "gold",
    "Gold",
    "silver",
    "2024-05-01",
    "2025-01-15T10:00:00Z",
    3,
    7.5,
    -2,
    0,
    True,
    False,
    None,
    [1, 2],
    {"a": 1},
)
ATTR_KEYS = ("plan", "visits", "vip", "joined", "tags")
EMAILS = ("ann@example.com", "bob@shop.io", "Carl@Example.com", "dee@x.org", None)
NAMES = ("Ann", "ann", "Bob", "Carla", "", None)
LOCALES = ("en-US", "en-GB", "de-DE", None)
SKUS = ("A", "B", "C")
CATEGORIES = ("shoes", "bags", None)
EVENTS = ("view", "cart", "open")
STAGES = ("new", "loyal", "occasional", "at_risk", "former", "ambassador")
STATUSES = ("placed", "paid", "cancelled", "refunded", "partially_refunded")
COUPONS = (None, None, "", "SAVE10", "WELCOME")


@dataclass
class DataSet:
    """A random data set: the facts of every customer, by id."""

    facts: dict[int, Facts]


def _moment(rng: random.Random, days_back: int) -> datetime:
    """A random second in the days_back days before NOW (a few after it)."""
    return NOW - timedelta(seconds=rng.randrange(-2 * 86400, days_back * 86400))


def _birthday(rng: random.Random) -> date | None:
    """A birthday, often near NOW's month-day or on 29 February."""
    roll = rng.random()
    if roll < 0.25:
        return None
    if roll < 0.35:
        return date(1992, 2, 29)
    if roll < 0.7:
        near = NOW.date() + timedelta(days=rng.randrange(-5, 15))
        return date(1980 + rng.randrange(20), near.month, min(near.day, 28))
    return date(1950, 1, 1) + timedelta(days=rng.randrange(20000))


def _customer(rng: random.Random, cid: int) -> tuple[dict, Facts]:
    """Profile row and facts of one customer (orders and events are added later)."""
    attributes = {k: rng.choice(ATTR_VALUES) for k in ATTR_KEYS if rng.random() < 0.6}
    row = {
        "id": cid,
        "external_id": f"c{cid}",
        "email": rng.choice(EMAILS),
        "phone": rng.choice(("+100", None)),
        "first_name": rng.choice(NAMES),
        "last_name": rng.choice(NAMES),
        "birthday": _birthday(rng),
        "locale": rng.choice(LOCALES),
        "time_zone": None,
        "attributes": attributes,
        "created_at": _moment(rng, 800),
        "updated_at": NOW,
    }
    profile = {
        k: row[k]
        for k in (
            "external_id",
            "email",
            "phone",
            "first_name",
            "last_name",
            "birthday",
            "locale",
            "time_zone",
            "created_at",
        )
    }
    consents = {
        ch: rng.choice(("granted", "denied", "unsubscribed", "unknown"))
        for ch in ("email", "sms")
        if rng.random() < 0.7
    }
    return row, Facts(customer_id=cid, profile=profile, attributes=attributes, consents=consents)


def _stats(rng: random.Random) -> dict | None:
    """A random aggregates row (None: the customer has none)."""
    if rng.random() < 0.1:
        return None
    count = rng.choice((0, 0, 1, 2, 3, 5))
    first = _moment(rng, 500) if count else None
    return {
        "order_count": count,
        "purchase_days": min(count, rng.randrange(1, 4)),
        "total_spent_cents": count * rng.choice((500, 1000, 2500, 3333)),
        "first_day_cents": 0,
        "first_order_at": first,
        "last_order_at": _moment(rng, 200) if count else None,
        "last_event_at": _moment(rng, 100) if rng.random() < 0.5 else None,
    }


def _scores(rng: random.Random) -> dict | None:
    """A random scores row (None: never scored)."""
    if rng.random() < 0.2:
        return None
    return {
        "recency_score": rng.randrange(1, 6),
        "frequency_score": rng.randrange(1, 6),
        "monetary_score": rng.randrange(1, 6),
        "rfm_segment": rng.choice(("champions", "lost")),
        "lifecycle_stage": rng.choice(STAGES),
        "p_alive": rng.choice((0.0, 0.25, 0.5, 0.9)),
        "churn_risk": rng.choice((0.1, 0.5, 0.75)),
        "expected_purchases_90d": 1.5,
        "expected_spend_cents": 1000,
        "predicted_clv_cents": rng.choice((0, 5000, 90000)),
        "clv_percentile": rng.choice((5.0, 50.0, 89.9, 90.0, 99.5)),
    }


def _orders(rng: random.Random, cid: int, next_id: list[int]) -> tuple[list, list, list]:
    """Order rows, line rows and facts of one customer."""
    orders, lines, facts = [], [], []
    for _ in range(rng.choice((0, 0, 1, 2, 4))):
        next_id[0] += 1
        oid = next_id[0]
        order = {
            "id": oid,
            "external_id": f"o{oid}",
            "customer_id": cid,
            "placed_at": _moment(rng, 400),
            "status": rng.choice(STATUSES),
            "currency": "USD",
            "total_cents": 1000,
            "discount_cents": 0,
            "refunded_cents": 0,
            "coupon_code": rng.choice(COUPONS),
            "source": "test",
            "created_at": NOW,
            "updated_at": NOW,
        }
        mine = [
            {
                "order_id": oid,
                "product_id": rng.choice((None, 1, 2)),
                "sku": rng.choice(SKUS),
                "category": rng.choice(CATEGORIES),
                "quantity": 1,
                "unit_price_cents": 500,
                "total_cents": 500,
            }
            for _ in range(rng.choice((0, 1, 2)))
        ]
        orders.append(order)
        lines += mine
        facts.append(
            OrderFact(
                order["status"],
                order["placed_at"],
                order["coupon_code"],
                tuple(LineFact(li["sku"], li["category"], li["product_id"]) for li in mine),
            )
        )
    return orders, lines, facts


def _events(rng: random.Random, cid: int, next_id: list[int]) -> tuple[list, list]:
    """Event rows and facts of one customer."""
    rows, facts = [], []
    for _ in range(rng.choice((0, 1, 2, 3, 5))):
        next_id[0] += 1
        props = {}
        if rng.random() < 0.7:
            props["category"] = rng.choice(("shoes", "Shoes", "bags"))
        if rng.random() < 0.5:
            props["price"] = rng.choice((5, 12.5, 40, "40"))
        if rng.random() < 0.3:
            props["gift"] = rng.choice((True, False, None))
        at = _moment(rng, 90)
        name = rng.choice(EVENTS)
        rows.append(
            {
                "id": next_id[0],
                "message_id": f"m{next_id[0]}",
                "type": "track",
                "name": name,
                "customer_id": cid,
                "anonymous_id": None,
                "properties": props,
                "context": {},
                "occurred_at": at,
                "received_at": at,
            }
        )
        facts.append(EventFact(name, at, props))
    return rows, facts


def build_dataset(sessions, *, seed: int, customers: int = 40) -> DataSet:
    """Store a random data set (set-based inserts) and return its facts."""
    rng = random.Random(seed)
    rows: dict[type, list[dict]] = {
        t: [] for t in (Customer, Consent, CustomerStats, CustomerScore, Order, OrderLine, Event)
    }
    facts: dict[int, Facts] = {}
    order_id, event_id = [0], [0]
    for cid in range(1, customers + 1):
        row, fact = _customer(rng, cid)
        rows[Customer].append(row)
        rows[Consent] += [
            {"customer_id": cid, "channel": ch, "status": st, "updated_at": NOW, "source": "test"}
            for ch, st in fact.consents.items()
        ]
        stats, scores = _stats(rng), _scores(rng)
        if stats is not None:
            rows[CustomerStats].append({"customer_id": cid, **stats})
        if scores is not None:
            rows[CustomerScore].append({"customer_id": cid, "computed_at": NOW, **scores})
        orders, lines, order_facts = _orders(rng, cid, order_id)
        rows[Order] += orders
        rows[OrderLine] += lines
        events, event_facts = _events(rng, cid, event_id)
        rows[Event] += events
        facts[cid] = Facts(
            cid,
            fact.profile,
            fact.attributes,
            fact.consents,
            stats or {},
            scores or {},
            tuple(order_facts),
            tuple(event_facts),
        )
    with transaction(sessions) as session:
        session.execute(
            insert(Product),
            [
                {
                    "id": i,
                    "sku": f"P{i}",
                    "name": f"P{i}",
                    "category": None,
                    "price_cents": 1,
                    "currency": "USD",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in (1, 2)
            ],
        )
        for table, batch in rows.items():
            if batch:
                session.execute(insert(table), batch)
    return DataSet(facts)


@pytest.fixture
def dataset(db) -> DataSet:
    """A seeded random data set in the test database."""
    return build_dataset(db.sessions, seed=20251122)
