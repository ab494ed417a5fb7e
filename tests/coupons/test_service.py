"""Coupons on SQLite: batches, personal codes, order redemption once, offers, contributions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from patron import manifest
from patron.coupons import offers, reactions, rules, service
from patron.coupons.tables import CouponCode, CouponRedemption
from patron.db import transaction
from patron.errors import InvalidInput
from patron.events.tables import LoggedEvent
from patron.journeys import steps
from patron.journeys.checks import DefinitionError
from patron.messages import context as message_context
from patron.segments.tables import Segment, SegmentMembership
from tests.coupons.conftest import T0, at, campaign, order, person, pump

CART = rules.Cart((rules.Line("sku-1", "shoes", 1, 5000),))


def test_batches_are_unique_and_export_every_code(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        c = campaign(s, kind="unique", code=None)
        assert service.generate_batch(session=s, campaign_id=c.id, count=3000, now=T0) == 3000
        made = service.generate_batch(session=s, campaign_id=c.id, count=5, prefix="vip-", now=T0)
        exported = list(service.export_codes(session=s, campaign_id=c.id, chunk=700))
        with pytest.raises(InvalidInput, match="count"):
            service.generate_batch(session=s, campaign_id=c.id, count=0, now=T0)
    assert made == 5 and len(exported) == 3005 == len({row[0] for row in exported})
    assert sum(code.startswith("VIP-") for code, _, _ in exported) == 5


def test_collisions_are_retried_set_based(sqlite_db, monkeypatch):
    with transaction(sqlite_db.sessions) as s:
        c = campaign(s, kind="unique", code=None)
        service.generate_batch(session=s, campaign_id=c.id, count=20, length=6, now=T0)
        taken = [row[0] for row in service.export_codes(session=s, campaign_id=c.id)]
        real = service.codes.fresh_codes
        rounds = iter([taken[:10] + real(5, 6)])  # first draw: ten taken codes and five new
        monkeypatch.setattr(
            service.codes,
            "fresh_codes",
            lambda n, length, p="": next(rounds, None) or real(n, length, p),
        )
        assert service.generate_batch(session=s, campaign_id=c.id, count=15, length=6, now=T0) == 15
        assert service.codes.count_codes(s, c.id) == 35


def test_personal_codes_are_idempotent_per_key_and_foreign_to_others(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann, bob = person(s, "ann"), person(s, "bob")
        c = campaign(s, kind="unique", code=None)
        first = service.issue_code(session=s, customer_id=ann, campaign_id=c.id, key="k1", now=T0)
        again = service.issue_code(session=s, customer_id=ann, campaign_id=c.id, key="k1", now=T0)
        other = service.issue_code(session=s, customer_id=ann, campaign_id=c.id, key="k2", now=T0)
        foreign = service.validate(session=s, code=first, customer_id=bob, cart=CART, now=T0)
        mine = service.validate(session=s, code=first.lower(), customer_id=ann, cart=CART, now=T0)
    assert first == again != other
    assert foreign.rule == "foreign_code" and mine == rules.Decision(True, 500)


def test_an_order_carrying_a_code_is_redeemed_once(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        person(s, "ann")
        c = campaign(s, total_limit=5)
        order(s, "ann", 4500, at(hours=1), coupon="welcome10", ref="o-1", discount_cents=500)
    pump(sqlite_db, reactions.CONSUMER, reactions.EVENT_TYPES, reactions.on_orders, at(hours=2))
    with transaction(sqlite_db.sessions) as s:  # the shop sends the order again, then via REST
        order(s, "ann", 4500, at(hours=1), coupon="WELCOME10", ref="o-1", discount_cents=500)
        cid = person(s, "ann")
        _, created = service.redeem(
            session=s,
            code="WELCOME10",
            customer_id=cid,
            order_ref="o-1",
            cart=CART,
            now=at(hours=3),
        )
    pump(sqlite_db, reactions.CONSUMER, reactions.EVENT_TYPES, reactions.on_orders, at(hours=4))
    with transaction(sqlite_db.sessions) as s:
        rows = s.scalars(select(CouponRedemption)).all()
        campaign_row = service.get_campaign(session=s, campaign_id=c.id)
        redeemed = s.scalars(select(LoggedEvent).where(LoggedEvent.type == "coupon.redeemed")).all()
    assert created is False and len(rows) == 1 and campaign_row.redeemed_count == 1
    assert rows[0].discount_cents == 500 and rows[0].source == "order"
    assert [e.data["code"] for e in redeemed] == ["WELCOME10"]


def test_segment_gating_and_offers_for_members_between_dates(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        ann, bob = person(s, "ann"), person(s, "bob", attributes={"tier": "gold"})
        seg = Segment(name="vip", rules={}, created_at=T0, updated_at=T0)
        s.add(seg)
        s.flush()
        s.add(SegmentMembership(segment_id=seg.id, customer_id=ann, entered_at=T0))
        gated = campaign(s, segment_id=seg.id)
        a = service.validate(session=s, code="WELCOME10", customer_id=ann, cart=CART, now=T0)
        b = service.validate(session=s, code="WELCOME10", customer_id=bob, cart=CART, now=T0)
        early = offers.create_offer(
            session=s,
            name="Early sale",
            kind="early_access",
            segment_id=seg.id,
            starts_at=at(days=1),
            ends_at=at(days=3),
            now=T0,
            campaign_id=gated.id,
        )
        gold = offers.create_offer(
            session=s,
            name="Gold",
            kind="exclusive",
            tier="gold",
            starts_at=T0,
            ends_at=at(days=9),
            now=T0,
        )
        seen = {
            (who, day): [
                o.id for o in offers.offers_for(session=s, customer_id=cid, now=at(days=day))
            ]
            for who, cid in (("ann", ann), ("bob", bob))
            for day in (0, 2, 4)
        }
        with pytest.raises(InvalidInput, match="audience"):
            offers.create_offer(
                session=s, name="x", kind="exclusive", starts_at=T0, ends_at=at(days=1), now=T0
            )
    assert a.valid and b.rule == "segment"
    assert seen[("ann", 0)] == [] and seen[("ann", 2)] == [early.id] and seen[("ann", 4)] == []
    assert seen[("bob", 0)] == seen[("bob", 2)] == seen[("bob", 4)] == [gold.id]


def test_contributions_reward_kind_journey_step_and_template_codes(sqlite_db):
    kind = next(k for k in manifest.contributions("loyalty.reward_kinds") if k.name == "coupon")
    step = steps.contributed()["issue_coupon"]
    with pytest.raises(DefinitionError):
        step.fields({"campaign_id": "x"}, "s1")
    with transaction(sqlite_db.sessions) as s:
        ann = person(s, "ann")
        c = campaign(s, kind="unique", code=None, in_templates=True, name="Welcome")
        reward = kind.fulfil(
            session=s, customer_id=ann, reward_config={"campaign_id": c.id}, key="r1", now=T0
        )
        again = kind.fulfil(
            session=s, customer_id=ann, reward_config={"campaign_id": c.id}, key="r1", now=T0
        )
        fields = step.fields({"campaign_id": c.id}, "s1")
        parsed = steps.parse(
            {
                "trigger": {"type": "api"},
                "start": "give",
                "steps": [{"id": "give", "type": "issue_coupon", "campaign_id": c.id}],
            }
        )
        assert "issue_coupon" in repr(parsed)
        issued = step.perform(session=s, customer_id=ann, fields=fields, key="1:s1:9:0", now=T0)
        ctx = message_context.contexts(session=s, customer_ids=[ann])[ann]
        ctx_again = message_context.contexts(session=s, customer_ids=[ann])[ann]
        owned = s.scalar(select(func.count()).where(CouponCode.customer_id == ann))
    assert reward == again and reward["code"] != issued["code"]
    assert ctx["personal_coupon"] == ctx["coupon_codes"]["Welcome"] == ctx_again["personal_coupon"]
    assert ctx["referral_code"] and owned == 3
