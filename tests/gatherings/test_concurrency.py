"""Concurrent RSVPs at capacity on PostgreSQL: exactly capacity seats, the rest waitlisted."""

from __future__ import annotations

import threading
from datetime import timedelta

from patron.db import transaction, utcnow
from patron.gatherings import rules, service
from tests import factories

GUESTS, CAPACITY = 10, 3


def test_concurrent_yes_answers_fill_exactly_the_capacity(pg_db):
    db = pg_db
    now = utcnow()
    with transaction(db.sessions) as s:
        ids = [factories.customer(s, f"c{i}", email=f"c{i}@x.com").id for i in range(GUESTS)]
        g = service.create_gathering(
            session=s,
            data=rules.GatheringInput(
                title="Webinar",
                starts_at=now + timedelta(days=2),
                ends_at=now + timedelta(days=2, hours=1),
                online_url="https://meet.example/w",
                capacity=CAPACITY,
            ),
            now=now,
        )
        gid = g.id
        service.invite_customers(session=s, gathering_id=gid, customer_ids=ids, now=now)

    barrier, errors = threading.Barrier(GUESTS), []

    def answer(customer_id):
        try:
            with db.sessions() as session, session.begin():
                barrier.wait(timeout=30)
                service.rsvp(
                    session=session,
                    gathering_id=gid,
                    customer_id=customer_id,
                    answer="yes",
                    now=utcnow(),
                )
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with transaction(db.sessions) as s:
        counts = service.counts(session=s, gathering_id=gid)
        assert (counts["going"], counts["waitlisted"]) == (CAPACITY, GUESTS - CAPACITY)
        assert service.get_gathering(session=s, gathering_id=gid).going == CAPACITY
        going = [
            r["customer_id"] for r in service.guests(session=s, gathering_id=gid, status="going")
        ]
        first_waiting = min(
            service.guests(session=s, gathering_id=gid, status="waitlisted"),
            key=lambda r: (r["waitlisted_at"], r["customer_id"]),
        )["customer_id"]
        assert len(going) == CAPACITY

    # Two seats free up at once: the first two on the waitlist get them, nobody else.
    def decline(customer_id):
        try:
            with db.sessions() as session, session.begin():
                barrier2.wait(timeout=30)
                service.rsvp(
                    session=session,
                    gathering_id=gid,
                    customer_id=customer_id,
                    answer="no",
                    now=utcnow(),
                )
        except Exception as exc:
            errors.append(exc)

    barrier2 = threading.Barrier(2)
    threads = [threading.Thread(target=decline, args=(cid,)) for cid in going[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with transaction(db.sessions) as s:
        counts = service.counts(session=s, gathering_id=gid)
        assert (counts["going"], counts["waitlisted"], counts["declined"]) == (
            CAPACITY,
            GUESTS - CAPACITY - 2,
            2,
        )
        assert service.get_gathering(session=s, gathering_id=gid).going == CAPACITY
        assert service.invitation(
            session=s, gathering_id=gid, customer_id=first_waiting
        ).status == ("going")
