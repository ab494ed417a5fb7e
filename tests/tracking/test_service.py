"""Ingest use cases: write-key cache, idempotent batches, concurrent writers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from patron.auth import service as auth_service
from patron.customers.tables import Customer, Event
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
