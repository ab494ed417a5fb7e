"""Pure rules of loyalty: order points, caps, lots spent oldest first, clawbacks, tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from patron.loyalty import wallet
from patron.loyalty.rules import (
    Programme,
    RuleConfig,
    cap_awards,
    order_batch,
    order_raw_points,
    round_points,
)

T = datetime(2025, 3, 10, 12, tzinfo=UTC)
GOLD = Programme(
    tiers=[{"name": "Base", "threshold": 0}, {"name": "Gold", "threshold": 500, "multiplier": 2}],
    tier_grace_days=30,
)


def _order(total, discount=0, lines=()):
    return {"total_cents": total, "discount_cents": discount, "lines": list(lines)}


def test_points_net_of_discount_with_category_multiplier_and_rounding():
    shoes = RuleConfig(name="shoes x3", trigger="multiplier", multiplier=3, categories=["shoes"])
    orders = [
        # Lines 60 + 40 less 10 discount: paid 90, spread 54 / 36; shoes tripled.
        _order(
            9000,
            1000,
            [{"category": "shoes", "total_cents": 6000}, {"category": "hats", "total_cents": 4000}],
        ),
        _order(1999),  # no lines: the total, floor(19.99) = 19
    ]
    base, extra, net = order_raw_points(order_batch(orders), Programme(), [shoes])
    assert net.tolist() == [9000, 1999]
    assert round_points(base, "floor").tolist() == [90, 19]
    assert round_points(extra[:, 0], "floor").tolist() == [108, 0]  # 54 * (3 - 1)
    assert round_points(np.array([19.5]), "nearest").tolist() == [20]
    assert round_points(np.array([19.01]), "ceil").tolist() == [20]


def test_paid_total_is_never_exceeded_by_lines():
    # Total already after the discount (Segment's spec): lines 100 less 10 = 90 >= paid 80.
    _, _, net = order_raw_points(
        order_batch([_order(8000, 1000, [{"total_cents": 10000}])]), Programme(), []
    )
    assert net.tolist() == [8000]


def test_caps_limit_per_customer_and_budget_in_order():
    customers = np.array([1, 2, 1, 1, 3])
    points = np.array([10, 10, 10, 10, 50])
    prior = np.array([1, 0, 1, 1, 0])
    mask = cap_awards(customers, points, prior, limit=2, remaining_budget=25)
    # Customer 1 had one award already: one more; customer 3's 50 overflows the budget.
    assert mask.tolist() == [True, True, False, False, False]


def test_rule_validation_names_the_problem():
    with pytest.raises(ValidationError, match="event_name"):
        RuleConfig(name="x", trigger="event", points=5)
    with pytest.raises(ValidationError, match="ends_at"):
        RuleConfig(name="x", trigger="review", points=5, starts_at=T, ends_at=T)
    with pytest.raises(ValidationError, match="thresholds"):
        Programme(tiers=[{"name": "A", "threshold": 10}])


def test_expiry_rolling_and_fixed():
    assert wallet.expires_at(Programme(expiry="rolling", expiry_months=6), T) == T.replace(month=9)
    fixed = wallet.expires_at(Programme(expiry="fixed", expiry_months=12), T)
    assert fixed == datetime(2026, 1, 1, tzinfo=UTC)
    assert wallet.expires_at(Programme(expiry="none"), T) is None
    assert wallet.add_months(datetime(2024, 1, 31, tzinfo=UTC), 1).day == 29


def _lot(i, days, remaining, pending=0, expires_in=None):
    exp = None if expires_in is None else T + timedelta(days=expires_in)
    return wallet.Lot(i, T + timedelta(days=days), exp, pending, remaining)


def test_spend_takes_oldest_unexpired_lots_first():
    lots = [_lot(3, 2, 50), _lot(1, 0, 30, expires_in=-1), _lot(2, 1, 40), _lot(4, 3, 0, 99)]
    assert wallet.spend(lots, 60, T) == [(2, 40), (3, 20)]  # lot 1 expired, lot 4 pending
    assert wallet.spendable_balance(lots, T) == 90
    with pytest.raises(ValueError, match="short by 10"):
        wallet.spend(lots, 100, T)


def test_clawback_takes_pending_then_own_then_oldest_then_shortfall():
    lots = [_lot(1, 0, 20), _lot(2, 1, 5, pending=10)]
    plan = wallet.clawback(lots, 2, 40, T)
    assert (plan.pending, plan.takes, plan.shortfall) == (10, [(2, 5), (1, 20)], 5)
    assert wallet.proportional(100, 0, 2500, 10000) == 25
    assert wallet.proportional(100, 90, 5000, 10000) == 10  # never more than is left


def test_tiers_upgrade_at_once_downgrade_after_period_and_grace():
    step = wallet.tier_step(GOLD, "Base", None, 600, T)
    assert (step.tier, step.changed, step.review_at) == ("Gold", True, T + wallet.YEAR)
    end = step.review_at
    assert wallet.tier_step(GOLD, "Gold", end, 100, end - timedelta(days=1)).tier == "Gold"
    in_grace = wallet.tier_step(GOLD, "Gold", end, 100, end + timedelta(days=29))
    assert (in_grace.tier, in_grace.changed) == ("Gold", False)
    down = wallet.tier_step(GOLD, "Gold", end, 100, end + timedelta(days=30))
    assert (down.tier, down.changed) == ("Base", True)
    renewed = wallet.tier_step(GOLD, "Gold", end, 700, end + timedelta(days=1))
    assert (renewed.tier, renewed.review_at) == ("Gold", end + timedelta(days=1) + wallet.YEAR)
