"""Demo data of gatherings: an upcoming webinar with answers and a waitlist, a past evening.

Deterministic and small: guests are recent repeat buyers first; the n-th guest's
answer follows from n, so every run tells the same story.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import CustomerStats
from patron.gatherings import rules, service

PREFIX = "Demo: "
WEBINAR_GUESTS = 30
WEBINAR_SEATS = 12
EVENING_GUESTS = 20


def _guests(session: Session, limit: int) -> list[int]:
    """Customers, repeat buyers first, the latest to order first."""
    query = (
        select(CustomerStats.customer_id)
        .order_by(
            (CustomerStats.order_count >= 2).desc(),
            CustomerStats.last_order_at.desc().nulls_last(),
            CustomerStats.customer_id,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def _webinar_answer(n: int) -> str | None:
    """The n-th webinar guest's answer (None: not answered yet)."""
    if n < 16:
        return "yes"  # 12 seats: the last four wait on the list
    return {0: "no", 1: "maybe", 2: None}[n % 3]


def _webinar(session: Session, guests: list[int], now: datetime) -> None:
    """An online event in ten days with invitations, answers and a waitlist."""
    starts = (now + timedelta(days=10)).replace(hour=17, minute=0, second=0, microsecond=0)
    webinar = service.create_gathering(
        session=session,
        data=rules.GatheringInput(
            title=f"{PREFIX}styling masterclass (webinar)",
            description="Our stylists show this season's looks and answer your questions live.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            online_url="https://meet.example/patron-demo-masterclass",
            capacity=WEBINAR_SEATS,
            waitlist=True,
        ),
        now=now - timedelta(days=5),
    )
    invited = now - timedelta(days=4)
    service.invite_customers(
        session=session, gathering_id=webinar.id, customer_ids=guests, now=invited
    )
    for n, customer_id in enumerate(guests):
        answer = _webinar_answer(n)
        if answer is not None:
            service.rsvp(
                session=session,
                gathering_id=webinar.id,
                customer_id=customer_id,
                answer=answer,
                now=invited + timedelta(hours=2 + n),
            )


def _evening(session: Session, guests: list[int], now: datetime) -> None:
    """An in-store evening three weeks ago: invited, answered, and who came."""
    starts = (now - timedelta(days=21)).replace(hour=18, minute=30, second=0, microsecond=0)
    evening = service.create_gathering(
        session=session,
        data=rules.GatheringInput(
            title=f"{PREFIX}VIP shopping evening",
            description="Drinks, a preview of the winter collection and 20% off all night.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            place="Patron store, 1 Market Street, Springfield",
            capacity=40,
        ),
        now=starts - timedelta(days=30),
    )
    invited = starts - timedelta(days=20)
    service.invite_customers(
        session=session, gathering_id=evening.id, customer_ids=guests, now=invited
    )
    for n, customer_id in enumerate(guests):
        service.rsvp(
            session=session,
            gathering_id=evening.id,
            customer_id=customer_id,
            answer="yes" if n % 5 != 4 else "no",
            now=invited + timedelta(days=1, hours=n),
        )
    came = [cid for n, cid in enumerate(guests) if n % 5 != 4 and n % 7 != 6]
    service.record_attendance(
        session=session,
        gathering_id=evening.id,
        customer_ids=came,
        source="checkin",
        now=starts + timedelta(hours=1),
    )


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the demo webinar and the past evening; False if seeded already."""
    if any(g.title.startswith(PREFIX) for g in service.list_gatherings(session=session)):
        return False
    guests = _guests(session, max(WEBINAR_GUESTS, EVENING_GUESTS))
    _evening(session, guests[:EVENING_GUESTS], now)
    _webinar(session, guests[:WEBINAR_GUESTS], now)
    session.flush()
    return True
