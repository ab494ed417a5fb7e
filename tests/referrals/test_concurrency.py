"""PostgreSQL: concurrent attributions to one referrer never pass the cap per period."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from patron.db import transaction
from patron.errors import PatronError
from patron.referrals import service
from patron.referrals.tables import Referral
from tests.coupons.conftest import T0, at, person

WRITERS, CAP = 10, 3


def test_concurrent_attributions_stop_at_the_cap(pg_db):
    with transaction(pg_db.sessions) as s:
        ann = person(s, "ann")
        service.save_programme(session=s, values={"cap": CAP}, now=T0)
        code = service.code_for(session=s, customer_id=ann, now=T0)
        friends = [person(s, f"f{n}") for n in range(WRITERS)]
    barrier, outcomes, lock = threading.Barrier(WRITERS), [], threading.Lock()

    def attribute(n):
        barrier.wait()
        try:
            with transaction(pg_db.sessions) as s:
                service.attribute(
                    session=s,
                    referee_customer_id=friends[n],
                    code=code,
                    source="api",
                    now=at(minutes=1),
                )
            outcome = "ok"
        except PatronError as exc:
            outcome = getattr(exc, "rule", exc.code)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attribute, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with transaction(pg_db.sessions) as s:
        stored = s.scalar(select(func.count()).select_from(Referral))
    assert outcomes.count("ok") == CAP == stored
    assert outcomes.count("cap_per_period") == WRITERS - CAP
