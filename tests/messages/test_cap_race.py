"""The frequency cap holds across concurrent senders (PostgreSQL, real threads with their own
connections): claimers that took different rows of one customer at the same moment let
exactly one through. PostgreSQL only: SQLite has one writer, so claimers cannot overlap."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.messages import enqueue, outbox, pacing, rules
from patron.messages.tables import OutboxMessage
from tests.messages.conftest import NOW, customer, template

CLAIMERS = 6


def _queue_one_customer_across_broadcasts(db) -> int:
    with transaction(db.sessions) as s:
        c = customer(s, 1)
        t = template(s)
        for broadcast in range(1, CLAIMERS + 1):
            enqueue.enqueue_one(
                s,
                customer_id=c.id,
                template_id=t.id,
                kind="marketing",
                source="broadcast",
                source_id=broadcast,
                now=NOW,
            )
        return c.id


def _claim_together(db, cap: rules.FrequencyCap) -> list[list[outbox.Claimed]]:
    """Each thread claims one row, waits until all have, then screens and paces, as a sender's
    claim transaction does."""
    barrier = threading.Barrier(CLAIMERS, timeout=30)
    passed: list[list[outbox.Claimed]] = [[] for _ in range(CLAIMERS)]
    errors: list[BaseException] = []

    def claimer(n: int) -> None:
        try:
            with transaction(db.sessions) as s:
                claimed = outbox.claim(
                    s, worker=f"w{n}", now=NOW, lease_seconds=60, limit=1, kind="marketing"
                )
                barrier.wait()  # every claim transaction is open with its own row
                ready = outbox.screen(s, claimed, domain="shop.example", now=NOW)
                passed[n] = pacing.pace(s, ready, now=NOW, cap=cap, quiet=None)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return passed


@pytest.mark.parametrize("policy", ["defer", "skip"])
def test_concurrent_claimers_of_one_customer_send_one_message_under_cap_1(pg_db, policy):
    customer_id = _queue_one_customer_across_broadcasts(pg_db)
    passed = _claim_together(pg_db, rules.FrequencyCap(limit=1, days=7, policy=policy))
    assert sum(len(p) for p in passed) == 1
    with transaction(pg_db.sessions) as s:
        rows = s.execute(
            select(OutboxMessage.state, OutboxMessage.reason).where(
                OutboxMessage.customer_id == customer_id
            )
        ).all()
    held = "queued" if policy == "defer" else "skipped"
    assert sorted(rows) == sorted([("sending", None)] + [(held, "frequency_cap")] * (CLAIMERS - 1))


def test_concurrent_claimers_of_different_customers_all_pass(pg_db):
    with transaction(pg_db.sessions) as s:
        t = template(s)
        for n in range(CLAIMERS):
            c = customer(s, n)
            enqueue.enqueue_one(
                s,
                customer_id=c.id,
                template_id=t.id,
                kind="marketing",
                source="broadcast",
                source_id=1,
                now=NOW,
            )
    passed = _claim_together(pg_db, rules.FrequencyCap(limit=1, days=7))
    assert sum(len(p) for p in passed) == CLAIMERS
