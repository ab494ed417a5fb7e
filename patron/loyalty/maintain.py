"""The programme's periodic job: release, expire, warn of expiry, review tiers, birthdays."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patron.events.service import append
from patron.loyalty import earning, events, service
from patron.loyalty.tables import LoyaltyAccount, LoyaltyLot

JOB = "loyalty.maintain"
EVERY_MINUTES = 60
LOTS = LoyaltyLot.__table__


def run(*, session: Session, now: datetime, payload: dict | None = None) -> dict:
    """One pass of every periodic rule; returns what it did (nothing while disabled)."""
    if not service.programme_enabled(session=session):
        return {"enabled": False}
    released, expired = service.release_and_expire(session=session, now=now)
    warned = warn_expiring(session=session, now=now)
    reviewed = review_due_tiers(session=session, now=now)
    birthdays = earning.birthday_rows(session=session, now=now)
    return {
        "released": released,
        "expired": expired,
        "warned": warned,
        "tier_changes": reviewed,
        "birthdays": birthdays,
    }


def warn_expiring(*, session: Session, now: datetime) -> int:
    """One `loyalty.points_expiring` per member whose lots expire within the notice days
    (each lot is announced once); returns members warned."""
    days = service.get_programme(session=session).expiring_notice_days
    where = [
        LOTS.c.warned.is_(False),
        (LOTS.c.remaining + LOTS.c.pending) > 0,
        LOTS.c.expires_at <= now + timedelta(days=days),
        LOTS.c.expires_at > now,
    ]
    rows = session.execute(
        select(
            LOTS.c.customer_id,
            func.sum(LOTS.c.remaining + LOTS.c.pending),
            func.min(LOTS.c.expires_at),
        )
        .where(*where)
        .group_by(LOTS.c.customer_id)
    ).all()
    if not rows:
        return 0
    session.execute(update(LOTS).where(*where).values(warned=True))
    append(
        session,
        [
            events.PointsExpiring(
                customer_id=c,
                points=int(p),
                expires_on=first.date().isoformat(),
                days=days,
            )
            for c, p, first in rows
        ],
        now=now,
    )
    return len(rows)


def review_due_tiers(*, session: Session, now: datetime) -> int:
    """Review members whose tier period has ended (downgrades after the grace period)."""
    ids = session.scalars(
        select(LoyaltyAccount.customer_id).where(LoyaltyAccount.tier_review_at <= now)
    ).all()
    changed = 0
    for start in range(0, len(ids), 1000):
        changed += service.review_tiers(
            session=session, customer_ids=ids[start : start + 1000], now=now
        )
    return changed
