"""Demo data of referrals: the programme saved, the first buyers referring newer customers.

Deterministic and small: each of the latest repeat buyers refers the next customers who
ordered once, attributed an hour before that first order; referrals whose window has passed
are qualified, the others still pending; one self-referral attempt is rejected.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers.read import COUNTED_EXCLUDED, CustomerStats, Order
from patron.referrals import qualify, service
from patron.referrals.tables import Referral

REFERRERS = 4
PER_REFERRER = 2
PROGRAMME = {"window_days": 30, "reward": "points", "referrer_points": 500, "referee_points": 250}


def _referrers(session: Session) -> list[int]:
    """Repeat buyers, the latest to order first."""
    query = (
        select(CustomerStats.customer_id)
        .where(CustomerStats.order_count >= 2)
        .order_by(CustomerStats.last_order_at.desc().nulls_last(), CustomerStats.customer_id)
        .limit(REFERRERS)
    )
    return list(session.scalars(query))


def _referees(session: Session, limit: int) -> list[tuple[int, datetime]]:
    """Customers (by id) with exactly one order, counted, with that order's time."""
    query = (
        select(Order.customer_id, func.min(Order.placed_at))
        .group_by(Order.customer_id)
        .having(func.count() == 1, func.max(Order.status).not_in(COUNTED_EXCLUDED))
        .order_by(Order.customer_id)
        .limit(limit)
    )
    return [(cid, at) for cid, at in session.execute(query).all()]


def _pending(session: Session, referrers, codes, taken, now: datetime) -> None:
    """Two recent referrals of customers who have not ordered yet: they wait for an order."""
    if len(referrers) < 2:
        return
    fresh = session.scalars(
        select(CustomerStats.customer_id)
        .where(CustomerStats.order_count == 0, CustomerStats.customer_id.not_in(taken))
        .order_by(CustomerStats.customer_id)
        .limit(6)
    ).all()
    made = 0
    for days, referee in enumerate(fresh, start=1):
        try:
            service.attribute(
                session=session,
                referee_customer_id=referee,
                code=codes[referrers[1]],
                source="signup",
                now=now - timedelta(days=days),
            )
        except service.Refused:
            continue
        made += 1
        if made == 2:
            return


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the programme and a few attributed and qualified referrals; False if seeded."""
    if session.scalar(select(func.count()).select_from(Referral)):
        return False
    service.save_programme(session=session, values=PROGRAMME, now=now - timedelta(days=90))
    referrers = _referrers(session)
    codes = service.codes_for(session=session, customer_ids=referrers, now=now)
    taken = set(referrers)
    candidates = [r for r in _referees(session, 10 * len(referrers) + 10) if r[0] not in taken]
    for referrer in referrers:
        made = 0
        while candidates and made < PER_REFERRER:
            referee, first_order = candidates.pop(0)
            at = min(first_order, now) - timedelta(hours=1)
            try:
                service.attribute(
                    session=session,
                    referee_customer_id=referee,
                    code=codes[referrer],
                    source="signup",
                    now=at,
                )
            except service.Refused:
                continue
            made += 1
    _pending(session, referrers, codes, taken, now)
    if referrers:  # a customer using their own code: recorded as a rejected referral
        service.attribute(
            session=session,
            referee_customer_id=referrers[0],
            code=codes[referrers[0]],
            source="tracking",
            now=now - timedelta(days=1),
            strict=False,
        )
    qualify.qualify_due(session=session, now=now)
    session.flush()
    return True
