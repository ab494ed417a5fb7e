"""Hypothesis: random streams of orders, refunds, cancellations, redemptions and passing time.

After every step: balance = sum of entries (and of lots), nothing negative, no expired point
ever spent, each redemption drains the oldest spendable lots first, and the tier is never
below what the last 12 months qualify for, dropping only after its period and grace.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from patron.db import transaction
from patron.errors import PatronError
from patron.loyalty import ledger, maintain, redemption, service, wallet
from patron.loyalty.rules import Programme
from patron.loyalty.tables import LoyaltyEntry, LoyaltyLot, LoyaltyTierChange
from tests.factories import at
from tests.loyalty import helpers as h

CONFIG = {
    "points_per_unit": 10,
    "return_window_days": 7,
    "expiry": "rolling",
    "expiry_months": 2,
    "tier_grace_days": 20,
    "tiers": [{"name": "Member", "threshold": 0}, {"name": "Gold", "threshold": 3000}],
}
PROGRAMME = Programme.model_validate(CONFIG)
COUNTER = itertools.count()
COSTS = (80, 250, 600)

ORDER = st.tuples(st.just("order"), st.sampled_from([999, 1500, 5000, 12_000, 30_000]))
REDEEM = st.tuples(st.just("redeem"), st.sampled_from(COSTS))
WAIT = st.tuples(st.just("wait"), st.sampled_from([1, 3, 8, 20, 40]))
OPS = st.one_of(
    ORDER,
    ORDER,
    REDEEM,
    REDEEM,
    WAIT,
    WAIT,
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("cancel"), st.integers(0, 9)),
)


def _lots(db, cid):
    with transaction(db.sessions) as s:
        return [
            wallet.Lot(r.id, r.earned_at, r.expires_at, r.pending, r.remaining)
            for r in s.scalars(select(LoyaltyLot).where(LoyaltyLot.customer_id == cid))
        ]


def _redeem(db, cid, rewards, cost, day):
    now = at(day)
    with transaction(db.sessions) as s:
        # Released, but expiry left unwritten: redemption itself must skip expired lots.
        ledger.release_due(s, now=now, customer_id=cid)
    before = {lot.id: lot for lot in _lots(db, cid)}
    try:
        with transaction(db.sessions) as s:
            redemption.redeem(
                session=s,
                customer_id=cid,
                reward_id=rewards[cost],
                key=f"r{next(COUNTER)}",
                now=now,
            )
    except service.Refused as exc:
        assert exc.rule == "balance" and wallet.spendable_balance(before.values(), now) < cost
        return
    after = {lot.id: lot for lot in _lots(db, cid)}
    spendable = sorted(
        (lot for lot in before.values() if lot.spendable(now)),
        key=lambda lot: (lot.earned_at, lot.id),
    )
    taken = [lot.remaining - after[lot.id].remaining for lot in spendable]
    assert sum(taken) == cost
    touched = [i for i, t in enumerate(taken) if t]
    # Oldest first: every lot before the last one touched is drained.
    assert all(after[spendable[i].id].remaining == 0 for i in range(touched[-1]))


def _check(db, cid, day, orders):
    s = h.state(db, cid)
    assert s["balance"] == s["ledger"][0] == s["lots_remaining"] >= 0
    assert s["pending"] == s["ledger"][1] >= 0
    with transaction(db.sessions) as session:
        spent_expired = session.execute(
            select(LoyaltyEntry.id)
            .join(LoyaltyLot, LoyaltyLot.id == LoyaltyEntry.lot_id)
            .where(
                LoyaltyEntry.kind == "redeemed", LoyaltyLot.expires_at <= LoyaltyEntry.created_at
            )
        ).all()
        assert not spent_expired
        changes = session.scalars(
            select(LoyaltyTierChange)
            .where(LoyaltyTierChange.customer_id == cid)
            .order_by(LoyaltyTierChange.id)
        ).all()
        value = service.qualifying_values(session, [cid], programme=PROGRAMME, now=at(day))
    qualified = wallet.qualified_tier(PROGRAMME, value.get(cid, 0))
    if s["tier"] is not None or qualified != "Member":
        assert wallet.tier_rank(PROGRAMME, s["tier"]) >= wallet.tier_rank(PROGRAMME, qualified)
    for before, change in itertools.pairwise(changes):
        if wallet.tier_rank(PROGRAMME, change.to_tier) < wallet.tier_rank(
            PROGRAMME, change.from_tier
        ):
            held = change.changed_at - before.changed_at
            assert held >= wallet.YEAR + timedelta(days=PROGRAMME.tier_grace_days)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(OPS, min_size=5, max_size=12))
def test_random_streams_keep_the_ledger_exact(sqlite_db, ops):
    db = sqlite_db
    n = next(COUNTER)
    if n == 0 or not hasattr(db, "_rewards"):
        h.setup(db, at(0), CONFIG)
        with transaction(db.sessions) as s:
            db._rewards = {
                c: redemption.create_reward(
                    session=s, name=f"R{c}", kind="custom", cost_points=c, now=at(0)
                ).id
                for c in COSTS
            }
    external = f"p{n}"
    cid = h.customer(db, external)
    day, orders = 0.0, []
    for op in ops:
        if op[0] == "order":
            orders.append(f"{external}-o{len(orders)}")
            h.order(db, orders[-1], external, op[1], days=day)
        elif op[0] in ("refund", "cancel") and orders:
            target = orders[op[1] % len(orders)]
            try:
                if op[0] == "refund":
                    h.refund(db, target, op[2] * 10, at(day))
                else:
                    h.cancel(db, target, at(day))
            except PatronError:
                pass  # a refund above what is left: refused by customers, nothing happens
        elif op[0] == "redeem":
            _redeem(db, cid, db._rewards, op[1], day)
        elif op[0] == "wait":
            day += op[1]
            with transaction(db.sessions) as s:
                maintain.run(session=s, now=at(day))
        h.pump(db, at(day))
        _check(db, cid, day, orders)
