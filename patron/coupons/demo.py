"""Demo data of coupons: a welcome campaign with a batch of codes, a VIP shared code, an offer.

Deterministic and small: a few codes were redeemed by the first buyers, in id order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.coupons import offers, rules, service
from patron.coupons.tables import CouponCampaign, CouponCode
from patron.customers.read import CustomerStats

PREFIX = "Demo: "
BATCH = 200
REDEEMED = 6


def _buyers(session: Session, limit: int) -> list[int]:
    """Repeat buyers, the latest to order first."""
    query = (
        select(CustomerStats.customer_id)
        .where(CustomerStats.order_count >= 2)
        .order_by(CustomerStats.last_order_at.desc().nulls_last(), CustomerStats.customer_id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _redeem(session: Session, code: str, customer_id: int, n: int, at: datetime) -> None:
    """One demo redemption of a code on a 60 to 100 dollar cart."""
    service.redeem(
        session=session,
        code=code,
        customer_id=customer_id,
        order_ref=f"demo-coupon-{n}",
        cart=rules.Cart(subtotal_cents=6_000 + 800 * n),
        now=at,
        source="api",
    )


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the demo campaigns, codes, redemptions and offer; False if seeded already."""
    welcome_name = f"{PREFIX}welcome 10% off"
    if session.scalar(select(CouponCampaign.id).where(CouponCampaign.name == welcome_name)):
        return False
    start = now - timedelta(days=60)
    welcome = service.create_campaign(
        session=session,
        name=welcome_name,
        kind="unique",
        code=None,
        now=start,
        discount_type="percent",
        percent=10,
        min_order_cents=2_000,
        per_customer_limit=1,
        starts_at=start,
    )
    service.generate_batch(
        session=session, campaign_id=welcome.id, count=BATCH, prefix="WELCOME", now=start
    )
    vip = service.create_campaign(
        session=session,
        name=f"{PREFIX}VIP 20% off",
        kind="shared",
        code="VIP20",
        now=start,
        discount_type="percent",
        percent=20,
        min_order_cents=5_000,
        per_customer_limit=1,
        total_limit=500,
        starts_at=start,
        ends_at=now + timedelta(days=30),
    )
    buyers = _buyers(session, 2 * REDEEMED)
    codes = session.scalars(
        select(CouponCode.code)
        .where(CouponCode.campaign_id == welcome.id)
        .order_by(CouponCode.code)
        .limit(REDEEMED)
    ).all()
    for n, (code, customer_id) in enumerate(zip(codes, buyers[:REDEEMED], strict=False)):
        _redeem(session, code, customer_id, n, now - timedelta(days=40 - 5 * n))
    for n, customer_id in enumerate(buyers[REDEEMED:]):
        _redeem(session, "VIP20", customer_id, n + REDEEMED, now - timedelta(days=20 - 3 * n))
    offers.create_offer(
        session=session,
        name=f"{PREFIX}early access to the winter collection",
        kind="exclusive",
        tier="gold",
        description="Gold members shop the winter collection two days before everyone.",
        url="https://shop.example/winter",
        campaign_id=vip.id,
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=12),
        now=now - timedelta(days=3),
    )
    session.flush()
    return True
