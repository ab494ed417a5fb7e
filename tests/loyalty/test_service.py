"""Loyalty on SQLite: earning from order events, release, refunds, cancellations, expiry,
tiers, bonus rules with limits and budgets, redemption and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from patron.customers import service as customers
from patron.db import transaction
from patron.errors import PatronError
from patron.events import service as events
from patron.events.tables import LoggedEvent
from patron.events.types import event
from patron.loyalty import contrib, maintain, redemption, reports, service
from patron.loyalty.tables import LoyaltyEntry
from patron.segments.tables import Segment, SegmentMembership
from tests.factories import at
from tests.loyalty import helpers as h

NOW = at(1)


def _maintain(db, now):
    with transaction(db.sessions) as s:
        return maintain.run(session=s, now=now)


def _types(db, prefix="loyalty."):
    with transaction(db.sessions) as s:
        return s.scalars(
            select(LoggedEvent.type)
            .where(LoggedEvent.type.like(f"{prefix}%"))
            .order_by(LoggedEvent.id)
        ).all()


def test_order_earns_pending_then_released_and_tier_upgrades_at_once(db):
    h.setup(db, NOW)
    cid = h.customer(db, "c1")
    h.order(
        db, "o1", "c1", 60000, lines=[{"sku": "a", "category": "shoes", "unit_price_cents": 60000}]
    )
    other = h.customer(db, "c2")
    h.order(db, "o9", "c2", 1000)  # two members in one batch: set-based account creation
    h.pump(db, NOW)
    h.pump(db, NOW)  # caught up: nothing earns twice
    assert h.state(db, other)["pending"] == 10
    s = h.state(db, cid)
    assert (s["balance"], s["pending"], s["ledger"], s["tier"]) == (0, 600, (0, 600), "Gold")
    _maintain(db, at(14.5))
    s = h.state(db, cid)
    assert (s["balance"], s["pending"], s["kinds"]) == (600, 0, ["earned", "released"])
    # Gold doubles the next order's points.
    h.order(db, "o2", "c1", 1000, days=15)
    h.pump(db, at(15))
    assert h.state(db, cid)["pending"] == 20
    types = _types(db)
    assert types.count("loyalty.points_earned") == 3 and types.count("loyalty.tier_changed") == 2


def test_refund_claws_back_proportionally_and_cancellation_reverses_pending(sqlite_db):
    db = sqlite_db
    h.setup(db, NOW)
    cid = h.customer(db, "c1")
    h.order(db, "o1", "c1", 10000)
    h.order(db, "o2", "c1", 5000)
    h.pump(db, NOW)
    h.refund(db, "o1", 2500, NOW)  # a quarter of o1's 100 points
    h.cancel(db, "o2", NOW)  # all of o2's 50 pending points
    h.pump(db, NOW)
    s = h.state(db, cid)
    assert (s["balance"], s["pending"], s["ledger"]) == (0, 75, (0, 75))
    assert s["kinds"].count("clawed_back") == 1 and s["kinds"].count("reversed") == 1


def test_refund_of_spent_points_takes_other_lots_then_records_shortfall(sqlite_db):
    db = sqlite_db
    h.setup(db, NOW)
    cid = h.customer(db, "c1")
    h.order(db, "o1", "c1", 10000)
    h.pump(db, NOW)
    _maintain(db, at(20))  # released: 100 spendable
    with transaction(db.sessions) as s:
        reward = redemption.create_reward(
            session=s, name="Mug", kind="custom", cost_points=80, now=NOW
        )
        redemption.redeem(session=s, customer_id=cid, reward_id=reward.id, key="k1", now=at(20))
        service.award(session=s, customer_id=cid, points=10, reason="gift", key="g1", now=at(20))
    h.refund(db, "o1", None, at(21))  # full refund: 100 points back, 30 left to take
    h.pump(db, at(21))
    s = h.state(db, cid)
    assert s["balance"] == 0 and s["ledger"] == (0, 0) and s["lots_remaining"] == 0
    with transaction(db.sessions) as session:
        detail = session.scalars(
            select(LoyaltyEntry.detail).where(LoyaltyEntry.detail["shortfall"].as_integer() > 0)
        ).one()
    assert detail == {"shortfall": 70}  # 80 redeemed, already spent: written off, never negative


def test_expiry_consumes_oldest_lots_and_warns_once(sqlite_db):
    db = sqlite_db
    h.setup(db, NOW, {**h.PROGRAMME, "expiry_months": 1, "return_window_days": 0, "tiers": []})
    cid = h.customer(db, "c1")
    h.order(db, "o1", "c1", 3000)
    h.order(db, "o2", "c1", 2000, days=20)
    h.pump(db, NOW)
    assert _maintain(db, at(10))["warned"] == 1
    assert _maintain(db, at(11))["warned"] == 0
    with transaction(db.sessions) as s:
        assert reports.summary(session=s, customer_id=cid, now=at(10))["points_expiring"] == 30
        report = reports.liability(session=s, now=at(10))
    assert report["outstanding"] == 50 and dict(report["expiring_by_month"]) == {"2025-02": 50}
    assert _maintain(db, at(32))["expired"] == 30
    assert h.state(db, cid)["balance"] == 20
    assert _types(db).count("loyalty.points_expired") == 1


def test_redemption_is_idempotent_and_refusals_name_the_rule_and_write_nothing(sqlite_db):
    db = sqlite_db
    h.setup(db, NOW, {**h.PROGRAMME, "return_window_days": 0})
    cid = h.customer(db, "c1")
    with transaction(db.sessions) as s:
        service.award(session=s, customer_id=cid, points=250, reason="gift", key="g", now=NOW)
        mug = redemption.create_reward(
            session=s,
            name="Mug",
            kind="free_product",
            cost_points=100,
            now=NOW,
            stock=5,
            per_customer_limit=2,
            config={"sku": "MUG"},
        )
        rare = redemption.create_reward(
            session=s, name="Rare", kind="custom", cost_points=1, now=NOW, stock=0
        )
        big = redemption.create_reward(
            session=s, name="Big", kind="custom", cost_points=10_000, now=NOW
        )
        ids = mug.id, rare.id, big.id
    answers = []
    for _ in range(2):
        with transaction(db.sessions) as s:
            answers.append(
                redemption.redeem(session=s, customer_id=cid, reward_id=ids[0], key="same", now=NOW)
            )
    assert answers[0] == answers[1] and answers[0]["balance"] == 150
    assert answers[0]["details"]["sku"] == "MUG"
    with transaction(db.sessions) as s:
        redemption.redeem(session=s, customer_id=cid, reward_id=ids[0], key="second", now=NOW)
    before = h.state(db, cid)
    for reward_id, key, rule in [
        (ids[0], "third", "per_customer_limit"),
        (ids[1], "r", "out_of_stock"),
        (ids[2], "b", "balance"),
        (999, "x", "reward_unavailable"),
    ]:
        with pytest.raises(service.Refused) as refused, transaction(db.sessions) as s:
            redemption.redeem(session=s, customer_id=cid, reward_id=reward_id, key=key, now=NOW)
        assert refused.value.rule == rule and rule in refused.value.message
    assert h.state(db, cid) == before and before["balance"] == 50


def test_bonus_rules_referral_review_event_filters_limits_budget(db):
    h.setup(
        db,
        NOW,
        {**h.PROGRAMME, "tiers": []},
        rules=[
            {"name": "Referral", "trigger": "referral"},
            {"name": "Reviews", "trigger": "review", "points": 20, "limit_count": 1},
            {
                "name": "Pro sign-up",
                "trigger": "event",
                "points": 7,
                "event_name": "Signed Up",
                "filters": [{"property": "plan", "equals": "pro"}],
                "budget_points": 7,
            },
        ],
    )
    a, b = h.customer(db, "a"), h.customer(db, "b")
    with transaction(db.sessions) as s:
        events.append(
            s,
            [
                event(
                    "referral.qualified",
                    a,
                    referral_id=1,
                    referrer_customer_id=a,
                    referee_customer_id=b,
                    order_id=1,
                    referrer_points=300,
                    referee_points=100,
                ),
                event("review.approved", a, review_id=1, sku="x", rating=5),
                event("review.approved", a, review_id=2, sku="y", rating=4),  # over the limit
            ],
            now=NOW,
        )
    for cid, plan, mid in ((a, "pro", "m1"), (b, "pro", "m2"), (b, "free", "m3")):
        with transaction(db.sessions) as s:
            customers.record_event(
                session=s,
                message_id=mid,
                type_="track",
                name="Signed Up",
                customer_id=cid,
                anonymous_id=None,
                properties={"plan": plan},
                context={},
                occurred_at=NOW,
                received_at=NOW,
            )
    h.pump(db, NOW)
    # a: 300 referrer + 20 one review (limit 1) + 7 pro sign-up; b: 100 referee, and the
    # budget of 7 is spent by a, so b's pro sign-up gives nothing; b's free plan never matches.
    assert h.state(db, a)["balance"] == 327 and h.state(db, b)["balance"] == 100
    with transaction(db.sessions) as s:
        spent = [r.spent_points for r in service.list_rules(session=s)]
    assert spent == [400, 20, 7]


def test_give_points_step_once_per_key_and_template_context(sqlite_db):
    db = sqlite_db
    h.setup(db, NOW, {**h.PROGRAMME, "return_window_days": 0, "expiry_months": 1})
    cid = h.customer(db, "c1")
    fields = contrib.give_points_fields({"type": "give_points", "points": 40}, "s1")
    with pytest.raises(PatronError, match="step s1: points"):
        contrib.give_points_fields({"type": "give_points", "points": 0}, "s1")
    now = at(700)  # the context reads the wall clock; expiry within 30 days of it
    with transaction(db.sessions) as s:
        first = contrib.give_points(
            session=s, customer_id=cid, fields=fields, key="1:s1:9:0", now=now
        )
        again = contrib.give_points(
            session=s, customer_id=cid, fields=fields, key="1:s1:9:0", now=now
        )
        context = contrib.message_context(session=s, customer_ids=[cid, 999])
    assert first["repeat"] is False and again["repeat"] is True
    assert context[cid]["points_balance"] == 40 and context[cid]["tier"] == "Member"
    assert context[999] == {
        "points_balance": 0,
        "points_pending": 0,
        "tier": "",
        "points_expiring": 0,
    }
    assert set(contrib.message_context.sample()) == set(context[cid])


def test_birthday_and_first_purchase_bonus_once(sqlite_db):
    db = sqlite_db
    h.setup(
        db,
        NOW,
        {**h.PROGRAMME, "tiers": []},
        rules=[
            {"name": "Birthday", "trigger": "birthday", "points": 50},
            {"name": "Welcome", "trigger": "first_purchase", "points": 25},
        ],
    )
    cid = h.customer(db, "c1", birthday="1990-01-05")
    h.order(db, "o1", "c1", 1000)
    h.order(db, "o2", "c1", 1000)
    h.pump(db, NOW)
    assert h.state(db, cid)["balance"] == 25  # one welcome bonus, spendable at once
    assert _maintain(db, at(4))["birthdays"] == 1
    assert _maintain(db, at(4.5))["birthdays"] == 0
    assert h.state(db, cid)["balance"] == 75


def test_segment_targeted_multiplier_with_window_limit_and_budget(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        segment = Segment(name="At risk", rules={}, created_at=NOW, updated_at=NOW)
        s.add(segment)
        s.flush()
        segment_id = segment.id
    h.setup(
        db,
        NOW,
        {**h.PROGRAMME, "tiers": []},
        rules=[
            {
                "name": "Weekend x2 for at-risk",
                "trigger": "multiplier",
                "multiplier": 2,
                "segment_id": segment_id,
                "starts_at": at(0).isoformat(),  # windows apply to the placing time
                "ends_at": at(2).isoformat(),
                "limit_count": 1,
                "budget_points": 25,
            },
        ],
    )
    a, b, c = h.customer(db, "a"), h.customer(db, "b"), h.customer(db, "c")
    with transaction(db.sessions) as s:
        s.add_all(
            [
                SegmentMembership(segment_id=segment_id, customer_id=x, entered_at=NOW)
                for x in (a, c)
            ]
        )
    h.order(db, "a1", "a", 1000)
    h.order(db, "b1", "b", 1000)  # not in the segment: base points only
    h.pump(db, NOW)
    h.order(db, "a2", "a", 1000)  # a's one boost in the period is used
    h.order(db, "c1", "c", 3000)  # 30 extra would overrun the budget's 15 left
    h.pump(db, NOW + timedelta(hours=1))
    h.order(db, "c2", "c", 1000, days=5)
    h.pump(db, NOW + timedelta(days=3))  # the window has closed
    pending = [h.state(db, x)["pending"] for x in (a, b, c)]
    assert pending == [20 + 10, 10, 30 + 10]


def test_nothing_earns_before_the_programme_is_saved_or_while_disabled(sqlite_db):
    db = sqlite_db
    cid = h.customer(db, "c1")
    h.order(db, "o1", "c1", 1000)
    h.pump(db, NOW)
    assert _maintain(db, NOW) == {"enabled": False}
    h.setup(db, NOW, {**h.PROGRAMME, "enabled": False})
    h.order(db, "o2", "c1", 1000)
    h.pump(db, NOW)
    assert h.state(db, cid)["kinds"] == []
