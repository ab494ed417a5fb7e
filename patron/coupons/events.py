"""Typed domain events of coupons."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent


@dataclass(frozen=True)
class CouponRedeemed(DomainEvent):
    """A code was used on an order (counted once per code and order)."""

    type = "coupon.redeemed"
    coupon_id: int
    code: str
    order_id: int | None
    discount_cents: int


EVENT_TYPES = (CouponRedeemed.type,)
