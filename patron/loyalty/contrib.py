"""What loyalty adds to other capabilities: template context and the `give_points` step."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.journeys.checks import DefinitionError
from patron.journeys.steps import StepType
from patron.loyalty import service
from patron.loyalty.tables import LoyaltyAccount, LoyaltyLot

LOTS = LoyaltyLot.__table__
MAX_STEP_POINTS = 1_000_000


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """points_balance, points_pending, tier and points_expiring (within the notice days)."""
    ids = sorted(customer_ids)
    days = service.get_programme(session=session).expiring_notice_days
    now = utcnow()
    accounts = session.execute(
        select(
            LoyaltyAccount.customer_id,
            LoyaltyAccount.balance,
            LoyaltyAccount.pending,
            LoyaltyAccount.tier,
        ).where(LoyaltyAccount.customer_id.in_(ids))
    ).all()
    expiring = dict(
        session.execute(
            select(LOTS.c.customer_id, func.sum(LOTS.c.remaining))
            .where(
                LOTS.c.customer_id.in_(ids),
                LOTS.c.remaining > 0,
                LOTS.c.expires_at > now,
                LOTS.c.expires_at <= now + timedelta(days=days),
            )
            .group_by(LOTS.c.customer_id)
        ).all()
    )
    out = {cid: _values(0, 0, None, 0) for cid in ids}
    for cid, balance, pending, tier in accounts:
        out[cid] = _values(balance, pending, tier, int(expiring.get(cid) or 0))
    return out


def _values(balance: int, pending: int, tier: str | None, expiring: int) -> dict:
    """One member's template names."""
    return {
        "points_balance": int(balance),
        "points_pending": int(pending),
        "tier": tier or "",
        "points_expiring": expiring,
    }


message_context.sample = lambda: _values(1250, 200, "Gold", 300)  # type: ignore[attr-defined]


def give_points_fields(raw: dict, step_id: str) -> dict:
    """A give_points step: `{"type": "give_points", "points": 100, "reason": "..."}`."""
    points = raw.get("points")
    if (
        not isinstance(points, int)
        or isinstance(points, bool)
        or not 1 <= points <= MAX_STEP_POINTS
    ):
        raise DefinitionError(step_id, f"points must be an integer from 1 to {MAX_STEP_POINTS}")
    reason = raw.get("reason", "journey")
    if not isinstance(reason, str) or not 1 <= len(reason) <= 200:
        raise DefinitionError(step_id, "reason must be 1 to 200 characters")
    return {"points": points, "reason": reason}


def give_points(*, session: Session, customer_id: int, fields: dict, key: str, now: datetime):
    """Give the step's points once per step key (spendable at once)."""
    entry = service.award(
        session=session,
        customer_id=customer_id,
        points=fields["points"],
        reason=f"journey: {fields['reason']}",
        key=f"journey:{key}",
        now=now,
    )
    return {"points": fields["points"], "entry_id": entry, "repeat": entry is None}


GIVE_POINTS = StepType("give_points", give_points_fields, give_points)


def _tier_names(session: Session, customer_ids: Collection[int]) -> dict[int, str]:
    """Each member's current tier (members without one are left out)."""
    rows = session.execute(
        select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
            LoyaltyAccount.customer_id.in_(sorted(customer_ids)), LoyaltyAccount.tier.is_not(None)
        )
    )
    return {cid: tier for cid, tier in rows}


def tiers(*, session: Session, customer_ids: Collection[int]) -> dict[int, str]:
    """Tiers for coupons' and offers' gating (`coupons.tiers`)."""
    return _tier_names(session, customer_ids)


def perks(*, session: Session, customer_ids: Collection[int]) -> dict[int, list[str]]:
    """The ambassadors' perks from their tier (`advocates.perks`): the tier and its benefits."""
    benefits = {t.name: t for t in service.get_programme(session=session).tiers}
    out: dict[int, list[str]] = {}
    for cid, tier in _tier_names(session, customer_ids).items():
        found = benefits.get(tier)
        granted = [k.replace("_", " ") for k, v in (found.benefits if found else {}).items() if v]
        multiplier = [f"{found.multiplier:g}x points"] if found and found.multiplier != 1 else []
        out[cid] = [f"{tier} tier", *multiplier, *granted]
    return out
