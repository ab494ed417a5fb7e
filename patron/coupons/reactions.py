"""Coupons' reactions: redeeming the code an order carries, and its contributions elsewhere.

Contributions: a `loyalty.reward_kinds` item (a plain object with `name` and `fulfil`, so
coupons never imports loyalty), the `journeys.steps` step `issue_coupon`, and the
`messages.context` provider of personal codes (`coupon_codes`, `personal_coupon`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from patron.coupons import rules, service
from patron.coupons.tables import CouponCampaign
from patron.db import utcnow
from patron.errors import PatronError
from patron.journeys.checks import DefinitionError

log = logging.getLogger("patron.coupons")
CONSUMER = "coupons.orders"
EVENT_TYPES = frozenset({"order.completed"})


def _cart(data: dict) -> rules.Cart:
    """The cart an order event describes (subtotal before its discount)."""
    lines = tuple(
        rules.Line(
            sku=line.get("sku"),
            category=line.get("category"),
            quantity=int(line.get("quantity") or 1),
            unit_price_cents=int(line.get("unit_price_cents") or 0),
        )
        for line in data.get("lines") or ()
    )
    subtotal = int(data.get("total_cents") or 0) + int(data.get("discount_cents") or 0)
    return rules.Cart(lines=lines, subtotal_cents=subtotal)


def on_orders(*, session: Session, events, now: datetime) -> None:
    """Redeem the coupon of each completed order, once per order; refusals are logged."""
    for e in events:
        code = (e.data.get("coupon_code") or "").strip()
        if not code or e.customer_id is None or e.data.get("status") in ("cancelled", "refunded"):
            continue
        placed = datetime.fromisoformat(e.data["placed_at"])
        try:
            with session.begin_nested():
                service.redeem(
                    session=session,
                    code=code,
                    customer_id=e.customer_id,
                    order_ref=str(e.data["external_id"]),
                    order_id=e.data.get("order_id"),
                    cart=_cart(e.data),
                    discount_cents=int(e.data.get("discount_cents") or 0),
                    source="order",
                    now=placed,
                )
        except PatronError as exc:
            log.info("order %s: coupon %s not counted: %s", e.data.get("external_id"), code, exc)


@dataclass(frozen=True)
class CouponRewardKind:
    """Loyalty's reward kind "coupon": `reward_config` {"campaign_id": N} issues a code."""

    name: str = "coupon"

    def fulfil(
        self, *, session: Session, customer_id: int, reward_config: dict, key: str, now: datetime
    ) -> dict:
        """Issue the customer's code of the configured campaign under the redemption's key."""
        campaign_id = int(reward_config["campaign_id"])
        code = service.issue_code(
            session=session,
            customer_id=customer_id,
            campaign_id=campaign_id,
            key=f"reward:{key}",
            now=now,
        )
        return {"code": code, "campaign_id": campaign_id}


def step_fields(raw: dict, step_id: str) -> dict:
    """The issue_coupon step's fields: a campaign id (the journeys checker raises)."""
    campaign = raw.get("campaign_id")
    if not isinstance(campaign, int) or isinstance(campaign, bool) or campaign < 1:
        raise DefinitionError(step_id, "campaign_id: a coupon campaign id is required")
    return {"campaign_id": campaign}


def step_perform(
    *, session: Session, customer_id: int, fields: dict, key: str, now: datetime
) -> dict:
    """Issue the enrolled customer a personal code, once per step key."""
    code = service.issue_code(
        session=session,
        customer_id=customer_id,
        campaign_id=fields["campaign_id"],
        key=f"journey:{key}",
        now=now,
    )
    return {"code": code, "campaign_id": fields["campaign_id"]}


def message_context(*, session: Session, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Personal codes of campaigns shown in templates: `coupon_codes` by campaign name and
    `personal_coupon` (the newest such campaign's code), issued set-based when first asked."""
    campaigns = session.scalars(
        select(CouponCampaign)
        .where(CouponCampaign.in_templates.is_(True), CouponCampaign.active.is_(True))
        .order_by(CouponCampaign.id)
    ).all()
    result: dict[int, dict[str, Any]] = {
        cid: {"coupon_codes": {}, "personal_coupon": ""} for cid in customer_ids
    }
    for campaign in campaigns:
        wanted = {f"template:{campaign.id}:{cid}": cid for cid in customer_ids}
        try:
            with session.begin_nested():
                issued = service.issue_codes(
                    session=session, campaign_id=campaign.id, wanted=wanted, now=utcnow()
                )
        except (PatronError, DBAPIError) as exc:  # a read-only preview cannot issue codes
            log.info("template codes of campaign %s not issued: %s", campaign.id, exc)
            continue
        for key, code in issued.items():
            values = result[wanted[key]]
            values["coupon_codes"][campaign.name] = code
            values["personal_coupon"] = code
    return result


def sample_context() -> dict[str, Any]:
    """The names of the provider for a made-up customer."""
    return {"coupon_codes": {"Welcome": "WELCOME-7K3M9P"}, "personal_coupon": "7K3M9PQR2X"}


message_context.sample = sample_context  # type: ignore[attr-defined]
