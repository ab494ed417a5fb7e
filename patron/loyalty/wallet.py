"""Pure rules of a member's lots: expiry dates, spending oldest first, clawbacks, tiers.

A lot is the points of one earning. While pending (inside the return window) its points are
not spendable; released, its `remaining` points are spent oldest lot first (by earning time,
then id), never once it has expired. Clawback of a refund takes from the order's own lot
first (pending or unspent), then from the member's other spendable lots, oldest first; what
is already spent beyond the balance is written off as a shortfall: the balance never goes
negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from patron.loyalty.rules import Programme

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Lot:
    """The spendable state of one earning."""

    id: int
    earned_at: datetime
    expires_at: datetime | None
    pending: int
    remaining: int

    def spendable(self, now: datetime) -> bool:
        """Whether the lot's released points may still be spent at now."""
        return self.remaining > 0 and (self.expires_at is None or now < self.expires_at)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (clamped to the month's last day)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


def _leap(year: int) -> bool:
    """Whether a year is a leap year."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def expires_at(programme: Programme, earned_at: datetime) -> datetime | None:
    """When points earned at a moment expire: N months later (rolling), at the start of the
    next year plus N-12 months (fixed: end of the year for 12), or never."""
    if programme.expiry == "none":
        return None
    if programme.expiry == "rolling":
        return add_months(earned_at, programme.expiry_months)
    start = earned_at.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return add_months(start, max(programme.expiry_months, 12))


def _oldest_first(lots: Sequence[Lot]) -> list[Lot]:
    """Lots by earning time, then id."""
    return sorted(lots, key=lambda lot: (lot.earned_at, lot.id))


def spend(lots: Sequence[Lot], points: int, now: datetime) -> list[tuple[int, int]]:
    """(lot id, points) taken to spend `points`, oldest spendable lot first; raises
    ValueError when the spendable balance is short."""
    takes, left = [], points
    for lot in _oldest_first(lots):
        if left == 0:
            break
        if lot.spendable(now):
            take = min(lot.remaining, left)
            takes.append((lot.id, take))
            left -= take
    if left:
        raise ValueError(f"balance short by {left} points")
    return takes


def spendable_balance(lots: Sequence[Lot], now: datetime) -> int:
    """Released, unexpired points."""
    return sum(lot.remaining for lot in lots if lot.spendable(now))


@dataclass(frozen=True)
class Clawback:
    """What a clawback takes: from pending points of its lot, from spendable lots, unrecovered."""

    pending: int
    takes: list[tuple[int, int]]
    shortfall: int


def clawback(lots: Sequence[Lot], own_lot: int | None, points: int, now: datetime) -> Clawback:
    """Take back `points` of an order: its lot's pending points, then its unspent ones, then
    other spendable lots oldest first; the rest is a shortfall (already spent)."""
    by_id = {lot.id: lot for lot in lots}
    own = by_id.get(own_lot) if own_lot is not None else None
    from_pending = min(own.pending, points) if own else 0
    left = points - from_pending
    takes: list[tuple[int, int]] = []
    if own and left and own.spendable(now):
        take = min(own.remaining, left)
        takes.append((own.id, take))
        left -= take
    for lot in _oldest_first(lots):
        if not left:
            break
        if lot.id != own_lot and lot.spendable(now):
            take = min(lot.remaining, left)
            takes.append((lot.id, take))
            left -= take
    return Clawback(from_pending, takes, left)


def proportional(points: int, clawed: int, refund_cents: int, total_cents: int) -> int:
    """Points to claw back for a refund: the order's points times the refunded share, never
    more than what is left of them."""
    if total_cents <= 0 or refund_cents <= 0:
        return 0
    share = min(refund_cents, total_cents) / total_cents
    return max(0, min(points - clawed, round(points * share)))


def qualified_tier(programme: Programme, value: int) -> str | None:
    """The highest tier whose threshold the qualifying value reaches."""
    best = None
    for tier in programme.tiers:
        if value >= tier.threshold:
            best = tier.name
    return best


def tier_rank(programme: Programme, name: str | None) -> int:
    """A tier's position (-1 for none or an unknown tier)."""
    names = [t.name for t in programme.tiers]
    return names.index(name) if name in names else -1


@dataclass(frozen=True)
class TierStep:
    """The outcome of a tier review: the tier and the end of its period."""

    tier: str | None
    review_at: datetime | None
    changed: bool


def tier_step(
    programme: Programme,
    current: str | None,
    review_at: datetime | None,
    value: int,
    now: datetime,
) -> TierStep:
    """Upgrade at once; downgrade only after the period's end plus the grace period; a member
    who still qualifies at the period's end starts a new period."""
    target = qualified_tier(programme, value)
    here, there = tier_rank(programme, current), tier_rank(programme, target)
    if there > here:
        return TierStep(target, now + YEAR, True)
    if review_at is None or now < review_at:
        return TierStep(current, review_at, False)
    if there == here:
        return TierStep(current, now + YEAR, False)
    if now >= review_at + timedelta(days=programme.tier_grace_days):
        return TierStep(target, now + YEAR, True)
    return TierStep(current, review_at, False)
