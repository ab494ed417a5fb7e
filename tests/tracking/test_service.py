"""Ingest use cases: write-key cache, idempotent batches, concurrent writers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from patron.auth import service as auth_service
from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event
from patron.db import transaction, utcnow
from patron.errors import Unauthorized
from patron.tracking import rules, service
from tests.tracking.conftest import make_key


class Clock:
    """A settable monotonic clock."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _messages(count: int, prefix: str = "m") -> list[rules.Message]:
    """count track messages from a handful of users and visitors."""
    env = rules.Envelope(received_at=utcnow())
    raws = [
        {
            "type": "track",
            "event": "E",
            "messageId": f"{prefix}{i}",
            **({"userId": f"u{i % 5}"} if i % 2 else {"anonymousId": f"a{i % 3}"}),
        }
        for i in range(count)
    ]
    return [rules.message(raw, type_=None, env=env, new_id=lambda: "unused") for raw in raws]


def _count(db, model) -> int:
    """Rows of a table."""
    with transaction(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_good_keys_are_remembered_until_their_time_is_up(db):
    key, clock = make_key(db), Clock()
    keys = service.WriteKeys(ttl=30, clock=clock)
    key_id = keys.check(factory=db.sessions, key=key)
    with transaction(db.sessions) as session:
        auth_service.revoke_key(session=session, key_id=key_id, now=utcnow())
    clock.now = 29
    assert keys.check(factory=db.sessions, key=key) == key_id
    clock.now = 31
    with pytest.raises(Unauthorized):
        keys.check(factory=db.sessions, key=key)


def test_ingesting_the_same_messages_twice_stores_them_once(db):
    messages = _messages(20)
    assert service.ingest(factory=db.sessions, messages=messages, now=utcnow()) == 20
    later = utcnow() + timedelta(seconds=1)
    assert service.ingest(factory=db.sessions, messages=messages, now=later) == 0
    assert (_count(db, Event), _count(db, Customer)) == (20, 5)


def test_concurrent_writers_of_overlapping_batches_store_each_message_once(db):
    batches = [_messages(60)[i * 20 : i * 20 + 40] for i in range(2)] * 2
    errors: list[Exception] = []

    def write(messages):
        try:
            service.ingest(factory=db.sessions, messages=messages, now=utcnow())
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (_count(db, Event), _count(db, Customer)) == (60, 5)


def _batch(raws: list[dict], received_at) -> list[rules.Message]:
    """Validate raw batch messages."""
    data = {"batch": raws}
    return rules.batch(data, body_size=100, received_at=received_at, new_id=lambda: "unused")


def test_a_batch_is_stored_value_for_value_and_links_the_visitor(db):
    now = utcnow().replace(microsecond=123456)
    props = {"price": 9.99, "big": 2**63, "tiny": 1e-7, "none": None, "name": "Zoë 🎉", "n": [1]}
    context = {"ip": "127.0.0.1", "nested": {"a": [True, False]}}
    raws = [
        {
            "type": "track",
            "event": "Viewed",
            "anonymousId": "v1",
            "messageId": "t1",
            "properties": props,
            "context": context,
            "timestamp": "2026-03-01T10:00:00.5+02:00",
        },
        {
            "type": "identify",
            "userId": "u1",
            "anonymousId": "v1",
            "messageId": "i1",
            "traits": {
                "email": "Zoe@Example.com",
                "firstName": "Zoë",
                "birthday": "1990-05-17",
                "plan": {"tier": "gold", "seats": 3},
            },
        },
        {"type": "page", "anonymousId": "v2", "messageId": "p1", "name": "Home"},
    ]
    messages = _batch(raws, now)
    assert service.ingest(factory=db.sessions, messages=messages, now=now) == 3
    with transaction(db.sessions) as session:
        events = {e.message_id: e for e in session.scalars(select(Event))}
        customer = session.scalar(select(Customer).where(Customer.external_id == "u1"))
        link = session.get(AnonymousId, "v1")
        stats = session.get(CustomerStats, customer.id)
    sent = {m.message_id: m for m in messages}
    for mid, event in events.items():
        assert (event.properties, event.context) == (sent[mid].properties, sent[mid].context)
        assert (event.occurred_at, event.received_at) == (sent[mid].occurred_at, now)
        assert (event.type, event.name, event.anonymous_id) == (
            sent[mid].type,
            sent[mid].name,
            sent[mid].anonymous_id,
        )
    assert [events[m].customer_id for m in ("t1", "i1", "p1")] == [customer.id, customer.id, None]
    assert (customer.email, customer.first_name, str(customer.birthday)) == (
        "zoe@example.com",
        "Zoë",
        "1990-05-17",
    )
    assert customer.attributes == {"plan": {"tier": "gold", "seats": 3}}
    assert link.customer_id == customer.id
    assert stats.last_event_at == max(events[m].occurred_at for m in ("t1", "i1"))


def test_last_event_time_only_moves_forward(db):
    now = utcnow()
    late = {"type": "track", "event": "E", "userId": "u1", "timestamp": now.isoformat()}
    early = {**late, "timestamp": (now - timedelta(days=2)).isoformat()}
    for mid, raw in (("late", late), ("early", early)):
        service.ingest(
            factory=db.sessions, messages=_batch([{**raw, "messageId": mid}], now), now=now
        )
    with transaction(db.sessions) as session:
        customer = session.scalar(select(Customer).where(Customer.external_id == "u1"))
        assert session.get(CustomerStats, customer.id).last_event_at == now
