"""PostgreSQL: 100 concurrent redemptions of one balance, and one key sent concurrently."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from patron.db import transaction
from patron.loyalty import redemption, service
from patron.loyalty.tables import LoyaltyRedemption
from tests.factories import at
from tests.loyalty import helpers as h

NOW = at(1)


def _race(db, cid: int, reward_id: int, keys: list[str]) -> list:
    """Redeem once per key, all threads released together; each result or refusal rule."""
    barrier = threading.Barrier(len(keys))
    results: list = [None] * len(keys)

    def one(i: int) -> None:
        barrier.wait()
        try:
            with transaction(db.sessions) as s:
                results[i] = redemption.redeem(
                    session=s, customer_id=cid, reward_id=reward_id, key=keys[i], now=NOW
                )
        except service.Refused as exc:
            results[i] = exc.rule

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _reward(db, cid: int, points: int, cost: int) -> int:
    h.setup(db, NOW, {**h.PROGRAMME, "return_window_days": 0})
    with transaction(db.sessions) as s:
        # Several lots, so each redemption spans lots oldest first.
        for i in range(4):
            service.award(
                session=s,
                customer_id=cid,
                points=points // 4,
                reason="gift",
                key=f"g{i}",
                now=at(i / 10),
            )
        return redemption.create_reward(
            session=s, name="R", kind="custom", cost_points=cost, now=NOW
        ).id


def test_100_concurrent_redemptions_never_overspend(pg_db):
    db = pg_db
    cid = h.customer(db, "c1")
    reward_id = _reward(db, cid, points=1000, cost=30)  # 33 affordable
    results = _race(db, cid, reward_id, [f"k{i}" for i in range(100)])
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1000 // 30 and results.count("balance") == 100 - len(won)
    s = h.state(db, cid)
    assert s["balance"] == 1000 - 30 * len(won) == s["ledger"][0] == s["lots_remaining"] >= 0
    assert min(r["balance"] for r in won) == s["balance"]


def test_one_key_sent_concurrently_redeems_once_with_one_answer(pg_db):
    db = pg_db
    cid = h.customer(db, "c1")
    reward_id = _reward(db, cid, points=400, cost=100)
    results = _race(db, cid, reward_id, ["same"] * 8)
    assert all(r == results[0] for r in results) and results[0]["balance"] == 300
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(LoyaltyRedemption)) == 1
    assert h.state(db, cid)["ledger"][0] == 300
