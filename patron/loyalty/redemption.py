"""The rewards catalogue and redemption: once per idempotency key, never overspending.

Redeeming locks the member's account row first, so concurrent redemptions of one balance run
one after another; under that lock the key is looked up (a repeat returns the first answer),
then stock, the per-member limit and the spendable balance (released, unexpired lots; an
expired lot is never spent, even before the hourly job writes its expiry) are checked. A
refusal raises `Refused` naming the rule, and the transaction writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patron.errors import InvalidInput, NotFound
from patron.events.service import append
from patron.loyalty import events as ev
from patron.loyalty import ledger, rewards, wallet
from patron.loyalty.service import Refused
from patron.loyalty.tables import LoyaltyRedemption, LoyaltyReward

REWARDS = LoyaltyReward.__table__


def create_reward(
    *,
    session: Session,
    name: str,
    kind: str,
    cost_points: int,
    now: datetime,
    stock: int | None = None,
    per_customer_limit: int | None = None,
    config: dict | None = None,
) -> LoyaltyReward:
    """Add a reward to the catalogue."""
    if kind not in rewards.kinds():
        raise InvalidInput(f"kind must be one of {', '.join(sorted(rewards.kinds()))}")
    if not name.strip() or len(name) > 255:
        raise InvalidInput("name must be 1 to 255 characters")
    if not 1 <= cost_points <= 10**9:
        raise InvalidInput("cost_points must be between 1 and 1000000000")
    if (stock is not None and not 0 <= stock <= 10**12) or (
        per_customer_limit is not None and not 1 <= per_customer_limit <= 10**6
    ):
        raise InvalidInput("stock must be 0 to 10^12 and per_customer_limit 1 to 10^6")
    row = LoyaltyReward(
        name=name.strip(),
        kind=kind,
        cost_points=cost_points,
        stock=stock,
        per_customer_limit=per_customer_limit,
        config=config or {},
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_rewards(*, session: Session, active_only: bool = False) -> list[LoyaltyReward]:
    """The catalogue, cheapest first."""
    query = select(LoyaltyReward).order_by(LoyaltyReward.cost_points, LoyaltyReward.id)
    if active_only:
        query = query.where(LoyaltyReward.active.is_(True))
    return list(session.scalars(query))


def set_reward_active(*, session: Session, reward_id: int, active: bool) -> None:
    """Show or hide a reward."""
    row = session.get(LoyaltyReward, reward_id)
    if row is None:
        raise NotFound(f"no reward {reward_id}")
    row.active = active


def _answer(row: LoyaltyRedemption) -> dict:
    """What a redemption returns, the first time and every repeat."""
    return {
        "redemption_id": row.id,
        "reward_id": row.reward_id,
        "points": row.points,
        "details": row.details,
        "balance": row.balance_after,
    }


def redeem(*, session: Session, customer_id: int, reward_id: int, key: str, now: datetime) -> dict:
    """Redeem a reward for a member under an idempotency key (see the module's docstring)."""
    if not key or len(key) > 200:
        raise InvalidInput("an idempotency key of 1 to 200 characters is required")
    full_key = f"{customer_id}:{key}"
    ledger.lock_account(session, customer_id, now=now)
    done = session.scalars(
        select(LoyaltyRedemption).where(LoyaltyRedemption.key == full_key)
    ).first()
    if done is not None:
        if done.reward_id != reward_id:
            raise Refused("idempotency_key", "this key was used for another reward")
        return _answer(done)
    reward = session.get(LoyaltyReward, reward_id)
    if reward is None or not reward.active:
        raise Refused("reward_unavailable", f"reward {reward_id} is not in the catalogue")
    _check_limit(session, reward, customer_id)
    # Expired lots are never spent (wallet.spend skips them) even before the job expires them.
    lots = ledger.lots_of(session, customer_id)
    try:
        takes = wallet.spend(lots, reward.cost_points, now)
    except ValueError as exc:
        raise Refused("balance", f"{reward.cost_points} points needed; {exc}") from None
    _take_stock(session, reward)
    kind = rewards.kinds().get(reward.kind)
    if kind is None:
        raise Refused("reward_kind", f"reward kind {reward.kind!r} is not installed")
    details = kind.fulfil(
        session=session,
        customer_id=customer_id,
        reward_config=dict(reward.config or {}),
        key=full_key,
        now=now,
    )
    row = LoyaltyRedemption(
        key=full_key,
        customer_id=customer_id,
        reward_id=reward.id,
        points=reward.cost_points,
        balance_after=wallet.spendable_balance(lots, now) - reward.cost_points,
        details=details,
        created_at=now,
    )
    session.add(row)
    session.flush()
    ledger.take(
        session,
        customer_id,
        takes,
        kind="redeemed",
        reason=f"reward: {reward.name}",
        now=now,
        redemption_id=row.id,
    )
    event = ev.RewardRedeemed(
        customer_id=customer_id,
        reward_id=reward.id,
        points=reward.cost_points,
        redemption_id=row.id,
    )
    append(session, [event], now=now)
    return _answer(row)


def _check_limit(session: Session, reward: LoyaltyReward, customer_id: int) -> None:
    """Refuse when the member has redeemed this reward as often as allowed."""
    if reward.per_customer_limit is None:
        return
    used = session.scalar(
        select(func.count()).where(
            LoyaltyRedemption.customer_id == customer_id,
            LoyaltyRedemption.reward_id == reward.id,
        )
    )
    if used >= reward.per_customer_limit:
        raise Refused("per_customer_limit", f"at most {reward.per_customer_limit} per member")


def _take_stock(session: Session, reward: LoyaltyReward) -> None:
    """Decrement stock atomically (never below 0, whatever other members do)."""
    if reward.stock is None:
        return
    result = session.execute(
        update(REWARDS)
        .where(REWARDS.c.id == reward.id, REWARDS.c.stock > 0)
        .values(stock=REWARDS.c.stock - 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Refused("out_of_stock", f"reward {reward.id} is out of stock")
