"""PostgreSQL: concurrent redemptions at a campaign's total limit, and of one personal code."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from patron.coupons import rules, service
from patron.coupons.tables import CouponRedemption
from patron.db import transaction
from patron.errors import PatronError
from tests.coupons.conftest import T0, campaign, person

WRITERS, LIMIT = 16, 5
CART = rules.Cart(subtotal_cents=5000)


def _race(db, work) -> list:
    barrier, results, lock = threading.Barrier(WRITERS), [], threading.Lock()

    def run(n):
        barrier.wait()
        try:
            with transaction(db.sessions) as s:
                outcome = work(s, n)
        except PatronError as exc:
            outcome = getattr(exc, "rule", exc.code)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_exactly_the_total_limit_succeeds_under_concurrency(pg_db):
    with transaction(pg_db.sessions) as s:
        ids = [person(s, f"p{n}") for n in range(WRITERS)]
        c = campaign(s, total_limit=LIMIT)

    def work(s, n):
        service.redeem(
            session=s, code="WELCOME10", customer_id=ids[n], order_ref=f"o{n}", cart=CART, now=T0
        )
        return "ok"

    results = _race(pg_db, work)
    with transaction(pg_db.sessions) as s:
        stored = s.scalar(select(func.count()).select_from(CouponRedemption))
        counter = service.get_campaign(session=s, campaign_id=c.id).redeemed_count
    assert results.count("ok") == LIMIT == stored == counter
    assert results.count("total_limit") == WRITERS - LIMIT


def test_one_personal_code_is_used_once_whatever_the_orders(pg_db):
    with transaction(pg_db.sessions) as s:
        ann = person(s, "ann")
        c = campaign(s, kind="unique", code=None)
        code = service.issue_code(session=s, customer_id=ann, campaign_id=c.id, key="k", now=T0)

    def work(s, n):
        service.redeem(session=s, code=code, customer_id=ann, order_ref=f"o{n}", cart=CART, now=T0)
        return "ok"

    results = _race(pg_db, work)
    assert results.count("ok") == 1 and results.count("code_used") == WRITERS - 1
