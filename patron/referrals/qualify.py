"""Qualification of referrals: the referee's first order, refunds in the window, the job.

A referral is pending from attribution; the referee's first order sets when it matures (the
order's time plus the window) or rejects it below the minimum; a refund or cancellation of
that order before then rejects it; the scheduled job qualifies the matured ones and rewards
both sides: points (in `referral.qualified`, loyalty awards them) or a personal coupon each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.coupons import service as coupons
from patron.events.service import append
from patron.referrals import rules
from patron.referrals.events import ReferralQualified, ReferralRejected
from patron.referrals.service import programme
from patron.referrals.tables import Referral

QUALIFY_JOB = "referrals.qualify"
EVERY_MINUTES = 60
BATCH = 500


def _pending(session: Session, referee_id: int) -> Referral | None:
    """The referee's pending referral, locked."""
    return session.scalar(
        select(Referral)
        .where(Referral.referee_customer_id == referee_id, Referral.state == "pending")
        .with_for_update()
    )


def reject(session: Session, row: Referral, rule: str, detail: str, now: datetime) -> None:
    """Reject a referral under a rule, with its event."""
    row.state, row.rule, row.detail, row.decided_at = "rejected", rule, detail, now
    append(session, [ReferralRejected(row.referee_customer_id, row.id, rule)], now=now)


def order_completed(session: Session, customer_id: int, data: dict, now: datetime) -> None:
    """The referee's first order after attribution starts the window (or breaks the minimum)."""
    row = _pending(session, customer_id)
    if row is None or data.get("status") in ("cancelled", "refunded"):
        return
    if row.order_id is not None:
        return  # the first order is known (a later one, or this one sent again)
    p = programme(session)
    total = int(data.get("total_cents") or 0)
    row.order_id, row.order_total_cents = data.get("order_id"), total
    if rules.first_order_rule(total, p):
        reject(session, row, "minimum_order", f"first order {total} < {p.min_order_cents}", now)
        return
    row.qualifies_at = rules.qualifies_at(datetime.fromisoformat(data["placed_at"]), p)


def order_reversed(session: Session, customer_id: int, data: dict, rule: str, now: datetime):
    """A refund or cancellation of the first order inside the window rejects the referral."""
    row = _pending(session, customer_id)
    if row is None or row.order_id is None or row.order_id != data.get("order_id"):
        return
    if row.qualifies_at is not None and now >= row.qualifies_at:
        return  # matured: the job qualifies it
    if rule == "refunded":
        total = int(data.get("total_cents") or row.order_total_cents or 0)
        refunded = int(data.get("refunded_cents") or total)
        if rules.refund_rule(total, refunded, programme(session)) is None:
            return
        detail = f"{refunded} of {total} refunded within the window"
    else:
        detail = "first order cancelled within the window"
    reject(session, row, rule, detail, now)


def _reward(session: Session, row: Referral, p: rules.Programme, now: datetime) -> dict:
    """Both sides' rewards: points for loyalty to award, or a personal coupon each."""
    if p.reward == "points":
        return {"referrer_points": p.referrer_points, "referee_points": p.referee_points}
    sides = (
        ("referrer", row.referrer_customer_id, p.referrer_campaign_id),
        ("referee", row.referee_customer_id, p.referee_campaign_id),
    )
    return {
        f"{side}_code": coupons.issue_code(
            session=session,
            customer_id=cid,
            campaign_id=campaign,
            key=f"referral:{row.id}:{side}",
            now=now,
        )
        for side, cid, campaign in sides
    }


def qualify_due(*, session: Session, now: datetime, limit: int = BATCH) -> int:
    """Qualify matured referrals and reward both sides; returns how many."""
    due = session.scalars(
        select(Referral)
        .where(Referral.state == "pending", Referral.qualifies_at <= now)
        .order_by(Referral.qualifies_at, Referral.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    p = programme(session)
    for row in due:
        row.rewards = _reward(session, row, p, now)
        row.state, row.decided_at = "qualified", now
        points = (row.rewards.get("referrer_points", 0), row.rewards.get("referee_points", 0))
        qualified = ReferralQualified(
            row.referrer_customer_id,
            row.id,
            row.referrer_customer_id,
            row.referee_customer_id,
            row.order_id,
            *points,
        )
        append(session, [qualified], now=now)
    session.flush()
    return len(due)


def qualify_job(*, session: Session, now: datetime, payload: dict) -> None:
    """The scheduled job: qualify every matured referral, a batch at a time."""
    while qualify_due(session=session, now=now) == BATCH:
        pass
