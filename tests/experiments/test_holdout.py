"""The global holdout at the outbox: a real send through the capture channel."""

from __future__ import annotations

from sqlalchemy import select

from patron.customers.read import Customer
from patron.db import transaction
from patron.experiments import holdout
from patron.messages import enqueue
from patron.messages.config import MessageConfig
from tests.experiments.conftest import arm_template, captured
from tests.messages.conftest import NOW, SECRET, customer, run_lane, states

CAPTURE = MessageConfig(secret_key=SECRET, lease_seconds=60)


def test_holdout_customers_never_receive_marketing_but_do_get_transactional(db, monkeypatch):
    with transaction(db.sessions) as s:
        ids = [customer(s, i).id for i in range(40)]
        news = arm_template(s, "news", "News")
        receipt = arm_template(s, "receipt", "Receipt", kind="transactional")
    # Queued before the holdout exists: the check happens at send time, not at queueing.
    with transaction(db.sessions) as s:
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=news, source="broadcast", source_id=1, now=NOW
        )
    monkeypatch.setenv("PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT", "25")
    held = {c for c, h in zip(ids, holdout.members(ids), strict=True) if h}
    assert 3 <= len(held) <= 20
    run_lane(db, CAPTURE, "bulk")
    found = states(db)
    assert {c for c, (state, reason) in found.items() if reason == "holdout"} == held
    assert all(state == "sent" for c, (state, _r) in found.items() if c not in held)
    got = captured(db)
    assert set(got) == {f"c{c - 1}@example.com" for c in ids if c not in held}
    one = min(held)
    with transaction(db.sessions) as s:
        enqueue.enqueue_one(
            s,
            customer_id=one,
            template_id=receipt,
            kind="transactional",
            source="api",
            source_id=0,
            now=NOW,
        )
    run_lane(db, CAPTURE, "transactional")
    assert captured(db)[f"c{one - 1}@example.com"] == ["Receipt"]


def test_no_holdout_by_default(monkeypatch):
    monkeypatch.delenv("PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT", raising=False)
    assert not holdout.members(range(1, 1000)).any()
