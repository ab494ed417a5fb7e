"""Referrals on SQLite: every fraud rule through the service (nothing written when refused),
attribution from tracking, velocity alerts, qualification and two-sided rewards."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from patron.customers import service as customers
from patron.db import transaction
from patron.events.tables import LoggedEvent
from patron.referrals import board, qualify, reactions, service
from patron.referrals.tables import Referral, ReferralAlert
from tests.coupons.conftest import T0, at, campaign, order, person, pump


def _pump(db, now):
    return pump(db, reactions.CONSUMER, reactions.EVENT_TYPES, reactions.on_events, now)


def _track(s, cid, name, when, *, anonymous=None, device=None, **props):
    customers.record_event(
        session=s,
        message_id=f"m-{cid}-{name}-{when.isoformat()}",
        type_="track",
        name=name,
        customer_id=cid,
        anonymous_id=anonymous,
        properties=props,
        context={"device": {"id": device}} if device else {},
        occurred_at=when,
        received_at=when,
    )


def _logged(s, type_name):
    return s.scalars(select(LoggedEvent).where(LoggedEvent.type == type_name)).all()


def _refused(s, referee, code, **kw):
    with pytest.raises(service.Refused) as caught, s.begin_nested():
        service.attribute(
            session=s,
            referee_customer_id=referee,
            code=code,
            source="api",
            now=at(hours=1),
            **kw,
        )
    return caught.value.rule


def test_every_fraud_rule_refuses_and_writes_nothing(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann = person(
            s,
            "ann",
            email="a.nn@gmail.com",
            phone="+1 415 555 0100",
            attributes={"address": "1 Main Street Springfield"},
        )
        _track(s, ann, "Viewed", T0, anonymous="anon-ann", device="dev-ann")
        code = service.code_for(session=s, customer_id=ann, now=T0)
        cases = {
            "self_referral": person(s, "x0"),
            "self_referral_email": person(s, "x1", email="ann+2@googlemail.com"),
            "self_referral_phone": person(s, "x2", phone="(415) 555-0100"),
            "self_referral_address": person(
                s, "x3", attributes={"address": "1 main st, springfield"}
            ),
            "self_referral_device": person(s, "x4"),
            "self_referral_anonymous_id": person(s, "x5"),
            "not_new_customer": person(s, "x6"),
        }
        order(s, "x6", 1000, at(days=-30))
        got = {
            "self_referral": _refused(s, ann, code),
            "self_referral_email": _refused(s, cases["self_referral_email"], code),
            "self_referral_phone": _refused(s, cases["self_referral_phone"], code),
            "self_referral_address": _refused(s, cases["self_referral_address"], code),
            "self_referral_device": _refused(
                s, cases["self_referral_device"], code, devices=["dev-ann"]
            ),
            "self_referral_anonymous_id": _refused(
                s, cases["self_referral_anonymous_id"], code, anonymous_ids=["anon-ann"]
            ),
            "not_new_customer": _refused(s, cases["not_new_customer"], code),
            "unknown_code": _refused(s, cases["self_referral"], "ZZZZZZZZ"),
        }
        assert s.scalar(select(func.count()).select_from(Referral)) == 0
        assert _logged(s, "referral.rejected") == [] and _logged(s, "referral.attributed") == []
    assert got == {rule: rule for rule in got}


def test_cap_per_period_velocity_alert_and_already_referred(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann = person(s, "ann")
        service.save_programme(session=s, values={"cap": 3, "velocity_count": 2}, now=T0)
        code = service.code_for(session=s, customer_id=ann, now=T0)
        friends = [person(s, f"f{n}") for n in range(4)]
        for n, friend in enumerate(friends[:3]):
            service.attribute(
                session=s, referee_customer_id=friend, code=code, source="api", now=at(minutes=n)
            )
        again = service.attribute(
            session=s, referee_customer_id=friends[0], code=code, source="api", now=at(minutes=5)
        )
        assert again.referee_customer_id == friends[0]  # the same attribution sent twice
        assert _refused(s, friends[3], code) == "cap_per_period"
        alerts = s.scalars(select(ReferralAlert)).all()
        assert len(alerts) == 1 and alerts[0].count == 3 and alerts[0].referrer_customer_id == ann
        other = service.code_for(session=s, customer_id=friends[3], now=T0)
        assert _refused(s, friends[0], other) == "already_referred"
        # A new period: the cap counts the last cap_days only.
        service.attribute(
            session=s, referee_customer_id=friends[3], code=code, source="api", now=at(days=31)
        )


def test_tracking_attribution_qualification_refund_and_minimum(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann = person(s, "ann")
        service.save_programme(
            session=s,
            values={
                "min_order_cents": 2000,
                "window_days": 14,
                "referrer_points": 300,
                "referee_points": 100,
            },
            now=T0,
        )
        code = service.code_for(session=s, customer_id=ann, now=T0)
        bob, cat, dan = person(s, "bob"), person(s, "cat"), person(s, "dan")
        eve = person(s, "eve", attributes={"referral_code": code})  # signed up with the code
        for cid in (bob, cat, dan):
            _track(s, cid, "Signed Up", at(minutes=cid), referral_code=code.lower())
        _track(s, ann, "Signed Up", at(minutes=9), referral_code=code)  # self: rejected row
    _pump(sqlite_db, at(hours=1))
    with transaction(sqlite_db.sessions) as s:
        order(s, "bob", 2500, at(days=1))
        refunded = order(s, "cat", 3000, at(days=1))
        order(s, "dan", 1500, at(days=1))
        order(s, "eve", 2000, at(days=2))
    _pump(sqlite_db, at(days=2))
    with transaction(sqlite_db.sessions) as s:
        customers.refund_order(
            session=s, external_id=refunded.external_id, amount_cents=None, now=at(days=5)
        )
    _pump(sqlite_db, at(days=5))
    with transaction(sqlite_db.sessions) as s:
        assert qualify.qualify_due(session=s, now=at(days=14)) == 0  # not matured yet
        assert qualify.qualify_due(session=s, now=at(days=16)) == 2
        states = {r.referee_customer_id: (r.state, r.rule) for r in s.scalars(select(Referral))}
        qualified = [e.data for e in _logged(s, "referral.qualified")]
        rejected = sorted(e.data["rule"] for e in _logged(s, "referral.rejected"))
        top = board.leaderboard(session=s)
    assert states == {
        bob: ("qualified", None),
        cat: ("rejected", "refunded"),
        dan: ("rejected", "minimum_order"),
        eve: ("qualified", None),
        ann: ("rejected", "self_referral"),  # from tracking: recorded, with its event
    }
    assert sorted(q["referee_customer_id"] for q in qualified) == [bob, eve]
    assert all(q["referrer_points"] == 300 and q["referee_points"] == 100 for q in qualified)
    assert all(q["referrer_customer_id"] == ann for q in qualified)
    assert rejected == ["minimum_order", "refunded", "self_referral"]
    assert top[0]["customer_id"] == ann and top[0]["qualified"] == 2


def test_coupon_rewards_go_to_both_sides_once(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann, bob = person(s, "ann"), person(s, "bob")
        c = campaign(s, kind="unique", code=None, discount_type="fixed", amount_cents=1000)
        service.save_programme(
            session=s,
            now=T0,
            values={
                "reward": "coupon",
                "referrer_campaign_id": c.id,
                "referee_campaign_id": c.id,
                "window_days": 0,
            },
        )
        code = service.code_for(session=s, customer_id=ann, now=T0)
        row = service.attribute(
            session=s, referee_customer_id=bob, code=code, source="signup", now=T0
        )
        order(s, "bob", 5000, at(hours=1))
    _pump(sqlite_db, at(hours=2))
    with transaction(sqlite_db.sessions) as s:
        assert qualify.qualify_due(session=s, now=at(hours=3)) == 1
        assert qualify.qualify_due(session=s, now=at(hours=4)) == 0
        rewards = s.get(Referral, row.id).rewards
        event = _logged(s, "referral.qualified")[0].data
    assert rewards["referrer_code"] != rewards["referee_code"]
    assert event["referrer_points"] == event["referee_points"] == 0


def test_attribution_at_the_first_order_uses_that_order(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann = person(s, "ann")
        service.save_programme(
            session=s, values={"min_order_cents": 1000, "window_days": 7}, now=T0
        )
        code = service.code_for(session=s, customer_id=ann, now=T0)
        bob, cat = person(s, "bob"), person(s, "cat")
        order(s, "bob", 4000, at(hours=1))
        order(s, "cat", 500, at(hours=1))
        _track(s, bob, "Order Completed", at(hours=1), referral_code=code)
        _track(s, cat, "Order Completed", at(hours=1), ref=code)
    _pump(sqlite_db, at(hours=2))
    with transaction(sqlite_db.sessions) as s:
        rows = {r.referee_customer_id: r for r in s.scalars(select(Referral))}
        assert rows[bob].state == "pending" and rows[bob].qualifies_at == at(days=7, hours=1)
        assert (rows[cat].state, rows[cat].rule) == ("rejected", "minimum_order")
        assert qualify.qualify_due(session=s, now=at(days=8)) == 1
