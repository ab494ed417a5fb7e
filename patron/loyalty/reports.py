"""Read-side use cases: member summary and statement, liability, tier distribution, simulation."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.events.service import read_window
from patron.loyalty import redemption, service, wallet
from patron.loyalty.rules import RuleConfig, cap_awards, order_batch, order_raw_points, round_points
from patron.loyalty.tables import LoyaltyAccount, LoyaltyEntry, LoyaltyLot, LoyaltyTierChange

LOTS = LoyaltyLot.__table__
SIMULATION_LIMIT = 200_000


def _spendable_now(session: Session, customer_id: int, now: datetime) -> int:
    """Released points not yet past expiry (what the member can spend right now)."""
    return wallet.spendable_balance(_lots(session, customer_id), now)


def _lots(session: Session, customer_id: int) -> list[wallet.Lot]:
    """A member's live lots (read only)."""
    rows = session.execute(
        select(
            LOTS.c.id, LOTS.c.earned_at, LOTS.c.expires_at, LOTS.c.pending, LOTS.c.remaining
        ).where(LOTS.c.customer_id == customer_id, (LOTS.c.pending > 0) | (LOTS.c.remaining > 0))
    )
    return [wallet.Lot(*r) for r in rows]


def summary(*, session: Session, customer_id: int, now: datetime) -> dict:
    """Balance, pending, tier, progress to the next tier, expiring soon, affordable rewards."""
    programme = service.get_programme(session=session)
    account = session.get(LoyaltyAccount, customer_id)
    balance = _spendable_now(session, customer_id, now)
    tier = account.tier if account else None
    value = service.qualifying_values(session, [customer_id], programme=programme, now=now)
    value = value.get(customer_id, 0)
    rank = wallet.tier_rank(programme, tier)
    following = programme.tiers[rank + 1] if rank + 1 < len(programme.tiers) else None
    soon = now + timedelta(days=programme.expiring_notice_days)
    expiring = sum(
        lot.remaining + lot.pending
        for lot in _lots(session, customer_id)
        if lot.expires_at is not None and now < lot.expires_at <= soon
    )
    benefits = next((t.benefits for t in programme.tiers if t.name == tier), {})
    return {
        "customer_id": customer_id,
        "balance": balance,
        "pending": account.pending if account else 0,
        "tier": tier,
        "benefits": benefits,
        "qualifying_value": value,
        "tier_basis": programme.tier_basis,
        "next_tier": following.name if following else None,
        "to_next_tier": max(following.threshold - value, 0) if following else None,
        "points_expiring": expiring,
        "expiring_within_days": programme.expiring_notice_days,
        "affordable_rewards": [
            {"id": r.id, "name": r.name, "kind": r.kind, "cost_points": r.cost_points}
            for r in redemption.list_rewards(session=session, active_only=True)
            if r.cost_points <= balance and (r.stock is None or r.stock > 0)
        ],
    }


def statement(*, session: Session, customer_id: int, limit: int = 100) -> list[LoyaltyEntry]:
    """A member's newest ledger entries."""
    query = (
        select(LoyaltyEntry)
        .where(LoyaltyEntry.customer_id == customer_id)
        .order_by(LoyaltyEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def tier_history(*, session: Session, customer_id: int) -> list[LoyaltyTierChange]:
    """A member's tier changes, newest first."""
    query = select(LoyaltyTierChange).where(LoyaltyTierChange.customer_id == customer_id)
    return list(session.scalars(query.order_by(LoyaltyTierChange.id.desc())))


def liability(*, session: Session, now: datetime) -> dict:
    """Outstanding points (spendable and pending), their value, and expiry by month."""
    programme = service.get_programme(session=session)
    spendable, pending, members = session.execute(
        select(
            func.coalesce(func.sum(LoyaltyAccount.balance), 0),
            func.coalesce(func.sum(LoyaltyAccount.pending), 0),
            func.count(),
        )
    ).one()
    rows = session.execute(
        select(LOTS.c.expires_at, LOTS.c.remaining + LOTS.c.pending).where(
            LOTS.c.expires_at.is_not(None), (LOTS.c.remaining + LOTS.c.pending) > 0
        )
    ).all()
    months: dict[str, int] = {}
    for expires, points in rows:
        label = "overdue" if expires <= now else expires.strftime("%Y-%m")
        months[label] = months.get(label, 0) + int(points)
    outstanding = int(spendable) + int(pending)
    return {
        "members": int(members),
        "spendable": int(spendable),
        "pending": int(pending),
        "outstanding": outstanding,
        "value_cents": outstanding * programme.value_cents_per_100 // 100,
        "expiring_by_month": sorted(months.items()),
    }


def tier_distribution(*, session: Session) -> list[tuple[str, int]]:
    """Members per tier, in the programme's tier order (then members without a tier)."""
    programme = service.get_programme(session=session)
    counts = dict(
        session.execute(
            select(LoyaltyAccount.tier, func.count()).group_by(LoyaltyAccount.tier)
        ).all()
    )
    ordered = [(t.name, int(counts.pop(t.name, 0))) for t in programme.tiers]
    return ordered + [(name or "(none)", int(n)) for name, n in counts.items()]


def simulate(*, session: Session, config: dict, days: int, now: datetime) -> dict:
    """What a rule would have given over the last `days` days (nothing is written)."""
    rule = RuleConfig.model_validate(config)
    since = now - timedelta(days=days)
    if rule.trigger in ("multiplier", "first_purchase"):
        stored = read_window(
            session, since=since, types=["order.completed"], limit=SIMULATION_LIMIT
        )
        stored = [e for e in stored if not e.data.get("replaced")]
        if not stored:
            return {"events": 0, "awards": 0, "points": 0, "members": 0}
        customers = np.array([e.customer_id for e in stored], dtype=np.int64)
        if rule.trigger == "multiplier":
            programme = service.get_programme(session=session)
            _, extra, _ = order_raw_points(order_batch([e.data for e in stored]), programme, [rule])
            points = round_points(extra[:, 0], programme.rounding)
        else:
            _, first = np.unique(customers, return_index=True)
            points = np.zeros(len(stored), dtype=np.int64)
            points[first] = rule.points
    else:
        types = {
            "referral": "referral.qualified",
            "review": "review.approved",
            "survey": "survey.answered",
            "event": "event.tracked",
        }.get(rule.trigger)
        if types is None:
            return {"events": 0, "awards": 0, "points": 0, "members": 0}
        stored = read_window(session, since=since, types=[types], limit=SIMULATION_LIMIT)
        if rule.trigger == "event":
            stored = [e for e in stored if e.data.get("name") == rule.event_name]
        customers = np.array([e.customer_id for e in stored], dtype=np.int64)
        points = np.full(len(stored), rule.points, dtype=np.int64)
    allowed = cap_awards(
        customers,
        points,
        np.zeros(len(points), dtype=np.int64),
        limit=rule.limit_count,
        remaining_budget=rule.budget_points,
    )
    return {
        "events": len(stored),
        "awards": int(allowed.sum()),
        "points": int(points[allowed].sum()),
        "members": len(set(customers[allowed].tolist())),
    }
