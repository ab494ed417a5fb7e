"""The outbox: consent at send time, lease expiry and the uncertain policy, context batching."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from patron.customers import service as customers
from patron.customers.read import Customer
from patron.db import transaction
from patron.messages import context, enqueue, outbox, sender
from patron.messages.config import MessageConfig
from patron.messages.tables import CapturedMessage, OutboxMessage
from tests import factories
from tests.messages.conftest import NOW, SECRET, customer, run_lane, states, template

CAPTURE = MessageConfig(secret_key=SECRET, lease_seconds=60)


def _queue(db, n: int, kind: str = "marketing"):
    with transaction(db.sessions) as s:
        for i in range(n):
            customer(s, i)
        t = template(s, kind=kind)
        enqueue.enqueue_many(
            s,
            select(Customer.id),
            template_id=t.id,
            source="broadcast",
            source_id=1,
            now=NOW,
            kind=kind,
        )


def test_consent_revoked_after_queueing_is_skipped_with_reason_consent(db):
    _queue(db, 3)
    with transaction(db.sessions) as s:
        c1 = s.scalar(select(Customer).where(Customer.external_id == "c1"))
        customers.set_consent(
            session=s, customer=c1, channel="email", status="unsubscribed", source="t", now=NOW
        )
        c1_id = c1.id
    assert run_lane(db, CAPTURE, "bulk") == 3
    found = states(db)
    assert found[c1_id] == ("skipped", "consent")
    assert sorted(v for k, v in found.items() if k != c1_id) == [("sent", None)] * 2
    with transaction(db.sessions) as s:
        captured = s.scalars(select(CapturedMessage.to_address)).all()
    assert sorted(captured) == ["c0@example.com", "c2@example.com"]


def test_transactional_skips_marketing_consent_but_marketing_needs_it(db):
    with transaction(db.sessions) as s:
        c = customer(s, 1, consent="denied")
        receipt = template(s, kind="transactional", name="receipt")
        news = template(s, kind="marketing", name="news")
        for t in (receipt, news):
            enqueue.enqueue_one(
                s,
                customer_id=c.id,
                template_id=t.id,
                kind=t.kind,
                source="t",
                source_id=t.id,
                now=NOW,
            )
    run_lane(db, CAPTURE, "transactional")
    run_lane(db, CAPTURE, "bulk")
    with transaction(db.sessions) as s:
        rows = s.execute(select(OutboxMessage.kind, OutboxMessage.state, OutboxMessage.reason))
        assert sorted(rows) == [
            ("marketing", "skipped", "consent"),
            ("transactional", "sent", None),
        ]


def _claim_and_attempt(db, *, attempt: bool) -> int:
    """Claim the one row as a sender that then dies (before or during the attempt)."""
    with transaction(db.sessions) as s:
        [row] = outbox.claim(
            s, worker="dead", now=NOW, lease_seconds=60, limit=10, kind="marketing"
        )
        [ready] = outbox.screen(s, [row], domain="shop.example")
        if attempt:
            assert outbox.start_attempt(s, outbox_id=row.id, worker="dead", now=NOW)
    return ready.id


@pytest.mark.parametrize("policy", ["never_resend", "resend"])
def test_a_lease_that_runs_out_during_an_attempt_follows_the_policy(db, policy):
    _queue(db, 1)
    outbox_id = _claim_and_attempt(db, attempt=True)
    config = MessageConfig(secret_key=SECRET, uncertain_policy=policy)
    assert run_lane(db, config, "bulk", now=NOW + timedelta(seconds=30)) == 0  # lease still held
    run_lane(db, config, "bulk", now=NOW + timedelta(seconds=61))
    with transaction(db.sessions) as s:
        row = s.get(OutboxMessage, outbox_id)
        captured = s.scalars(select(CapturedMessage)).all()
    if policy == "never_resend":
        assert row.state == "uncertain" and "may have been delivered" in row.reason
        assert captured == []
    else:
        assert row.state == "sent" and len(captured) == 1


def test_a_claimed_row_never_attempted_is_sent_after_the_lease(db):
    _queue(db, 1)
    outbox_id = _claim_and_attempt(db, attempt=False)
    run_lane(db, CAPTURE, "bulk", now=NOW + timedelta(seconds=61))
    with transaction(db.sessions) as s:
        assert s.get(OutboxMessage, outbox_id).state == "sent"
        assert len(s.scalars(select(CapturedMessage)).all()) == 1


def test_a_render_error_fails_the_row_with_the_reason(db):
    with transaction(db.sessions) as s:
        c = customer(s, 1)
        t = template(s, kind="transactional", body="<p>{{ data.order.number }}</p>")
        enqueue.enqueue_one(
            s,
            customer_id=c.id,
            template_id=t.id,
            kind="transactional",
            source="api",
            source_id=t.id,
            now=NOW,
            data={"nothing": 1},
        )
    run_lane(db, CAPTURE, "transactional")
    [(state, reason)] = states(db).values()
    assert state == "failed" and reason.startswith("render: body:") and "order" in reason


def test_context_providers_are_batched_not_per_customer(db):
    with transaction(db.sessions) as s:
        for i in range(30):
            customer(s, i)
            factories.order(
                s,
                f"o{i}",
                f"c{i}",
                total=1500,
                lines=[dict(sku="TEA", name="Tea", quantity=1, unit_price_cents=1500)],
            )
        ids = s.scalars(select(Customer.id)).all()
    statements = []
    with transaction(db.sessions) as s:
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = context.contexts(session=s, customer_ids=ids)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    # A few per provider (a first render makes referral codes), whatever the customer count.
    assert len(found) == 30 and len(statements) <= 2 + 4 * len(context.providers())
    one = found[ids[3]]
    assert one["customer"]["first_name"] == "Name3" and one["stats"]["order_count"] == 1
    assert one["orders"][0]["lines"][0]["sku"] == "TEA"
    assert set(one["scores"]) >= {"rfm_segment", "p_alive"} and "lifecycle_stage" in one


def test_wake_dedupes_waiting_sender_jobs(db):
    with transaction(db.sessions) as s:
        assert sender.wake(s, lane="transactional", now=NOW) == 1
        assert sender.wake(s, lane="transactional", now=NOW) == 0
        assert sender.wake(s, lane="bulk", now=NOW, senders=2) == 2
