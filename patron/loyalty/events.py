"""Typed domain events of loyalty, appended in the ledger's own transaction."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent


@dataclass(frozen=True)
class PointsEarned(DomainEvent):
    """A member earned points (pending or spendable)."""

    type = "loyalty.points_earned"
    points: int
    entry_id: int
    reason: str


@dataclass(frozen=True)
class PointsExpiring(DomainEvent):
    """Some of a member's points expire within `days` days, the first on `expires_on`."""

    type = "loyalty.points_expiring"
    points: int
    expires_on: str
    days: int


@dataclass(frozen=True)
class PointsExpired(DomainEvent):
    """Unspent points of a member expired."""

    type = "loyalty.points_expired"
    points: int


@dataclass(frozen=True)
class TierChanged(DomainEvent):
    """A member moved to another tier (None: no tier)."""

    type = "loyalty.tier_changed"
    from_tier: str | None
    to_tier: str | None


@dataclass(frozen=True)
class RewardRedeemed(DomainEvent):
    """A member redeemed a reward for points."""

    type = "loyalty.reward_redeemed"
    reward_id: int
    points: int
    redemption_id: int


EVENT_TYPES = tuple(
    e.type for e in (PointsEarned, PointsExpiring, PointsExpired, TierChanged, RewardRedeemed)
)
