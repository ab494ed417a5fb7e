"""Exclusive offers and early access: created for a segment or tier, listed for a customer."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.coupons import rules
from patron.coupons.service import get_campaign, in_segment, tier_of
from patron.coupons.tables import CouponCampaign, CouponCode, CouponRedemption, Offer
from patron.errors import InvalidInput, NotFound
from patron.segments import read as segments

KINDS = ("exclusive", "early_access")


def _check_url(url: str) -> str:
    """An https (or http) address, or empty: never a script or relative trick."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("url: an absolute http(s) address")
    return url


def create_offer(
    *,
    session: Session,
    name: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    segment_id: int | None = None,
    tier: str | None = None,
    description: str = "",
    url: str = "",
    campaign_id: int | None = None,
) -> Offer:
    """Creates an offer visible to a segment's members or a tier between two dates."""
    if kind not in KINDS:
        raise InvalidInput(f"kind: one of {', '.join(KINDS)}")
    if segment_id is None and not tier:
        raise InvalidInput("audience: give a segment_id or a tier (an exclusive offer is gated)")
    if ends_at <= starts_at:
        raise InvalidInput("ends_at: must be after starts_at")
    if segment_id is not None and session.get(segments.Segment, segment_id) is None:
        raise NotFound(f"segment {segment_id} does not exist")
    if campaign_id is not None:
        get_campaign(session=session, campaign_id=campaign_id)
    offer = Offer(
        name=name,
        kind=kind,
        description=description,
        url=_check_url(url),
        segment_id=segment_id,
        tier=tier or None,
        campaign_id=campaign_id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
    )
    session.add(offer)
    session.flush()
    return offer


def list_offers(*, session: Session) -> list[Offer]:
    """Every offer, newest first."""
    return list(session.scalars(select(Offer).order_by(Offer.id.desc())))


def offers_for(*, session: Session, customer_id: int, now: datetime) -> list[Offer]:
    """The offers a customer sees now, soonest ending first."""
    current = session.scalars(
        select(Offer)
        .where(Offer.starts_at <= now, Offer.ends_at > now)
        .order_by(Offer.ends_at, Offer.id)
    ).all()
    tier = tier_of(session, customer_id) if any(o.tier for o in current) else None
    return [
        o
        for o in current
        if rules.visible(
            now=now,
            starts_at=o.starts_at,
            ends_at=o.ends_at,
            in_segment=in_segment(session, o.segment_id, customer_id),
            tier_ok=not o.tier or o.tier == tier,
        )
    ]


def offer_dict(offer: Offer) -> dict:
    """An offer as JSON."""
    return {
        "id": offer.id,
        "name": offer.name,
        "kind": offer.kind,
        "description": offer.description,
        "url": offer.url,
        "segment_id": offer.segment_id,
        "tier": offer.tier,
        "campaign_id": offer.campaign_id,
        "starts_at": offer.starts_at.isoformat(),
        "ends_at": offer.ends_at.isoformat(),
    }


def panel_context(*, session: Session, customer_id: int) -> dict | None:
    """The customer page's Coupons panel: personal codes and redemptions."""
    codes = session.execute(
        select(CouponCode.code, CouponCode.redeemed_count, CouponCampaign.name)
        .join(CouponCampaign, CouponCampaign.id == CouponCode.campaign_id)
        .where(CouponCode.customer_id == customer_id)
        .order_by(CouponCode.id.desc())
        .limit(20)
    ).all()
    used = session.execute(
        select(CouponRedemption.order_ref, CouponRedemption.discount_cents, CouponCampaign.name)
        .join(CouponCampaign, CouponCampaign.id == CouponRedemption.campaign_id)
        .where(CouponRedemption.customer_id == customer_id)
        .order_by(CouponRedemption.id.desc())
        .limit(20)
    ).all()
    return {"coupon_codes_owned": codes, "coupon_redemptions": used} if codes or used else None
