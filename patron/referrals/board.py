"""Read-only views of referrals: the leaderboard, rejections, alerts, a customer's summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from patron.customers import read as customers_read
from patron.referrals.tables import Referral, ReferralAlert, ReferralCode

Customer = customers_read.Customer


def leaderboard(*, session: Session, since: datetime | None = None, limit: int = 20) -> list[dict]:
    """Referrers by qualified referrals (then pending), one grouped query."""
    qualified = func.sum(case((Referral.state == "qualified", 1), else_=0)).label("qualified")
    pending = func.sum(case((Referral.state == "pending", 1), else_=0)).label("pending")
    query = select(Referral.referrer_customer_id, qualified, pending).where(
        Referral.state != "rejected"
    )
    if since is not None:
        query = query.where(Referral.attributed_at >= since)
    ranked = (
        query.group_by(Referral.referrer_customer_id)
        .order_by(qualified.desc(), pending.desc(), Referral.referrer_customer_id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(ranked, Customer.email, Customer.external_id)
        .join(Customer, Customer.id == ranked.c.referrer_customer_id)
        .order_by(ranked.c.qualified.desc(), ranked.c.pending.desc(), Customer.id)
    ).all()
    return [
        {
            "rank": n,
            "customer_id": r.referrer_customer_id,
            "email": r.email,
            "external_id": r.external_id,
            "qualified": int(r.qualified or 0),
            "pending": int(r.pending or 0),
        }
        for n, r in enumerate(rows, start=1)
    ]


def latest(*, session: Session, state: str | None = None, limit: int = 50) -> list[Referral]:
    """The latest referrals, of one state when given."""
    query = select(Referral).order_by(Referral.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Referral.state == state)
    return list(session.scalars(query))


def alerts(*, session: Session, limit: int = 50) -> list[ReferralAlert]:
    """The latest velocity alerts."""
    return list(
        session.scalars(select(ReferralAlert).order_by(ReferralAlert.id.desc()).limit(limit))
    )


def counts_of(*, session: Session, customer_id: int) -> dict[str, int]:
    """A referrer's referrals by state."""
    rows = session.execute(
        select(Referral.state, func.count())
        .where(Referral.referrer_customer_id == customer_id)
        .group_by(Referral.state)
    ).all()
    found = {state: int(n) for state, n in rows}
    return {s: found.get(s, 0) for s in ("pending", "qualified", "rejected")}


def referral_dict(row: Referral) -> dict:
    """A referral as JSON."""
    return {
        "id": row.id,
        "referrer_customer_id": row.referrer_customer_id,
        "referee_customer_id": row.referee_customer_id,
        "code": row.code,
        "source": row.source,
        "state": row.state,
        "rule": row.rule,
        "detail": row.detail,
        "order_id": row.order_id,
        "qualifies_at": row.qualifies_at.isoformat() if row.qualifies_at else None,
        "rewards": row.rewards or {},
        "attributed_at": row.attributed_at.isoformat(),
    }


def panel_context(*, session: Session, customer_id: int) -> dict | None:
    """The customer page's Referrals panel: their code, who referred them, their referrals."""
    code = session.get(ReferralCode, customer_id)
    referred = session.scalar(select(Referral).where(Referral.referee_customer_id == customer_id))
    counts = counts_of(session=session, customer_id=customer_id)
    if code is None and referred is None and not any(counts.values()):
        return None
    return {"referral_code": code.code if code else None, "referred": referred, "counts": counts}
