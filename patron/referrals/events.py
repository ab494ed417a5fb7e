"""Typed domain events of referrals."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent


@dataclass(frozen=True)
class ReferralAttributed(DomainEvent):
    """A referee (the event's customer) was attributed to a referrer."""

    type = "referral.attributed"
    referral_id: int
    referrer_customer_id: int


@dataclass(frozen=True)
class ReferralQualified(DomainEvent):
    """A referral qualified; the event's customer is the referrer (loyalty awards the points)."""

    type = "referral.qualified"
    referral_id: int
    referrer_customer_id: int
    referee_customer_id: int
    order_id: int | None
    referrer_points: int
    referee_points: int


@dataclass(frozen=True)
class ReferralRejected(DomainEvent):
    """A referral was refused by a rule; the event's customer is the referee."""

    type = "referral.rejected"
    referral_id: int
    rule: str


EVENT_TYPES = (ReferralAttributed.type, ReferralQualified.type, ReferralRejected.type)
