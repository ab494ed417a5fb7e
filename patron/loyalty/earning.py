"""The earning consumer: orders, refunds, cancellations and bonus triggers into the ledger.

A batch of `order.completed` events earns set-based: points of every order at once in NumPy
(`rules.order_raw_points`), multiplier rules capped array-wise (`rules.cap_awards`), then one
executemany each for lots, entries and account sums. An order earns once (its entry key is
`order:<id>`); a replaced order keeps the points it first earned. Refunds claw back the
refunded share, cancellations reverse what is left (`service.refund`, `service.cancel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers.read import COUNTED_EXCLUDED, Customer, Event, Order
from patron.events.types import StoredEvent
from patron.loyalty import ledger, service
from patron.loyalty.rules import (
    Programme,
    RuleConfig,
    cap_awards,
    order_batch,
    order_raw_points,
    round_points,
    tier_multiplier,
)
from patron.loyalty.tables import LoyaltyAccount, LoyaltyEntry, LoyaltyLot, LoyaltyRule
from patron.segments.read import SegmentMembership

CONSUMER = "loyalty.earn"
BONUS_TRIGGERS = {
    "referral.qualified": "referral",
    "review.approved": "review",
    "survey.answered": "survey",
    "event.tracked": "event",
}
EVENT_TYPES = frozenset({"order.completed", "order.refunded", "order.cancelled", *BONUS_TRIGGERS})


def on_events(*, session: Session, events: Sequence[StoredEvent], now: datetime) -> None:
    """Handle a batch in log order: runs of orders set-based, the rest one by one (nothing
    until the programme is saved and enabled)."""
    if not service.programme_enabled(session=session):
        return
    run: list[StoredEvent] = []
    for e in events:
        if e.type == "order.completed":
            run.append(e)
            continue
        earn_orders(session=session, events=run, now=now)
        run = []
        if e.type == "order.refunded":
            service.refund(
                session=session,
                order_id=e.data["order_id"],
                refund_cents=int(e.data.get("amount_cents") or 0),
                total_cents=int(e.data.get("total_cents") or 0),
                now=now,
            )
        elif e.type == "order.cancelled":
            service.cancel(session=session, order_id=e.data["order_id"], now=now)
        else:
            bonus(session=session, event=e, now=now)
    earn_orders(session=session, events=run, now=now)


def _active_rules(session: Session, trigger: str) -> list[tuple[LoyaltyRule, RuleConfig]]:
    """Active rules of a trigger, whatever their time window."""
    rows = service.list_rules(session=session, trigger=trigger, active_only=True)
    return [(row, RuleConfig.model_validate(row.config)) for row in rows]


def _in_window(config: RuleConfig, stamps: np.ndarray) -> np.ndarray:
    """1.0 for orders placed inside a rule's time window (by their placing time)."""
    inside = np.ones(len(stamps), dtype=bool)
    if config.starts_at is not None:
        inside &= stamps >= config.starts_at.timestamp()
    if config.ends_at is not None:
        inside &= stamps < config.ends_at.timestamp()
    return inside.astype(np.float64)


def _live_rules(
    session: Session, trigger: str, now: datetime
) -> list[tuple[LoyaltyRule, RuleConfig]]:
    """Active rules of a trigger whose window contains now."""
    found = []
    for row in service.list_rules(session=session, trigger=trigger, active_only=True):
        config = RuleConfig.model_validate(row.config)
        if config.live(now):
            found.append((row, config))
    return found


def _members(session: Session, segment_id: int, customer_ids: np.ndarray) -> np.ndarray:
    """Which of the customers are in a segment (a boolean array)."""
    ids = set(
        session.scalars(
            select(SegmentMembership.customer_id).where(
                SegmentMembership.segment_id == segment_id,
                SegmentMembership.customer_id.in_(sorted(set(customer_ids.tolist()))),
            )
        )
    )
    return np.fromiter(
        (c in ids for c in customer_ids.tolist()), dtype=bool, count=len(customer_ids)
    )


def _new_orders(session: Session, events: Sequence[StoredEvent]) -> list[StoredEvent]:
    """Counted orders of the batch that have not earned yet (first event per order)."""
    seen, fresh = set(), []
    for e in events:
        oid = e.data.get("order_id")
        if e.customer_id is None or oid in seen or e.data.get("status") in COUNTED_EXCLUDED:
            continue
        seen.add(oid)
        fresh.append(e)
    if not fresh:
        return []
    earned = set(
        session.scalars(
            select(LoyaltyLot.order_id).where(
                ledger.id_in(session, LoyaltyLot.__table__.c.order_id, sorted(seen))
            )
        )
    )
    return [e for e in fresh if e.data["order_id"] not in earned]


def earn_orders(*, session: Session, events: Sequence[StoredEvent], now: datetime) -> int:
    """Earn points on many orders at once; returns points given."""
    orders = _new_orders(session, events)
    if not orders:
        return 0
    programme = service.get_programme(session=session)
    customers = np.array([e.customer_id for e in orders], dtype=np.int64)
    placed = [datetime.fromisoformat(e.data["placed_at"]) for e in orders]
    rules = _active_rules(session, "multiplier")
    batch = order_batch([e.data for e in orders])
    base, extra, net = order_raw_points(batch, programme, [c for _, c in rules])
    stamps = np.array([at.timestamp() for at in placed])
    for r, (row, config) in enumerate(rules):
        extra[:, r] *= _in_window(config, stamps)
        extra[:, r] *= _capped(session, row, config, customers, extra[:, r], now)
    tiers = _tiers(session, customers)
    factor = np.array([tier_multiplier(programme, t) for t in tiers])
    points = round_points((base + extra.sum(axis=1)) * factor, programme.rounding)
    _spend_budgets(session, rules, round_points(extra * factor[:, None], programme.rounding))
    # The multiplier rule that added most to each order (counted by its per-member limit).
    boost = np.argmax(extra, axis=1) if rules else np.zeros(len(orders), dtype=np.int64)
    boosted = extra.max(axis=1) > 0 if rules else np.zeros(len(orders), dtype=bool)
    rule_ids = [rules[int(i)][0].id if hit else None for i, hit in zip(boost, boosted, strict=True)]
    awards = [
        dict(
            customer_id=int(c),
            points=int(p),
            reason="purchase",
            key=f"order:{e.data['order_id']}",
            earned_at=at,
            order_id=e.data["order_id"],
            total_cents=int(n),
            event_id=e.id,
            rule_id=rule_id,
        )
        for e, c, p, n, at, rule_id in zip(
            orders, customers, points, net, placed, rule_ids, strict=True
        )
    ]
    ledger.earn_lots(session, programme, awards, now=now)
    _first_purchase(session, programme, orders, placed, now)
    service.review_tiers(
        session=session, customer_ids=set(customers.tolist()), now=now, programme=programme
    )
    return int(points.sum())


def _capped(session, row: LoyaltyRule, config: RuleConfig, customers, extra, now) -> np.ndarray:
    """1.0 where a multiplier rule's extra points pass its audience, limits and budget."""
    hit = extra > 0
    if config.segment_id is not None:
        hit &= _members(session, config.segment_id, customers)
    prior = np.zeros(len(customers), dtype=np.int64)
    if config.limit_count is not None:
        counts = _rule_counts(session, row.id, customers, config.limit_period_days, now)
        prior = np.array([counts.get(int(c), 0) for c in customers], dtype=np.int64)
    remaining = None if config.budget_points is None else config.budget_points - row.spent_points
    allowed = cap_awards(
        customers,
        np.where(hit, np.ceil(extra), 0),
        prior,
        limit=config.limit_count,
        remaining_budget=remaining,
    )
    return allowed.astype(np.float64)


def _rule_counts(session, rule_id: int, customers, days: int, now: datetime) -> dict[int, int]:
    """Orders a multiplier rule boosted per member in its period (entries naming the rule)."""
    return service.rule_window_counts(session, rule_id, set(customers.tolist()), days=days, now=now)


def _spend_budgets(session, rules, extra_points: np.ndarray) -> None:
    """Count multiplier rules' extra points against their budgets."""
    for r, (row, _) in enumerate(rules):
        service.spend_budget(session, row, int(extra_points[:, r].sum()))


def _tiers(session: Session, customers: np.ndarray) -> list[str | None]:
    """Each order's member's current tier."""
    rows = dict(
        session.execute(
            select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
                ledger.id_in(
                    session, LoyaltyAccount.__table__.c.customer_id, sorted(set(customers.tolist()))
                )
            )
        ).all()
    )
    return [rows.get(int(c)) for c in customers]


def _first_purchase(session, programme: Programme, orders, placed, now: datetime) -> None:
    """The first-purchase bonus, once per member, for members whose first order this is."""
    rules = _live_rules(session, "first_purchase", now)
    if not rules:
        return
    firsts: dict[int, tuple] = {}
    for e, at in zip(orders, placed, strict=True):
        if e.customer_id not in firsts or at < firsts[e.customer_id][1]:
            firsts[e.customer_id] = (e, at)
    # A member's first purchase: no counted order of theirs was placed before it.
    firsts_at = dict(
        session.execute(
            select(Order.customer_id, func.min(Order.placed_at))
            .where(
                ledger.id_in(session, Order.__table__.c.customer_id, sorted(firsts)),
                Order.status.not_in(COUNTED_EXCLUDED),
            )
            .group_by(Order.customer_id)
        ).all()
    )
    earlier = {c for c, (_, at) in firsts.items() if firsts_at.get(c) and firsts_at[c] < at}
    for row, config in rules:
        candidates = [(c, e, at) for c, (e, at) in firsts.items() if c not in earlier]
        _give(
            session,
            programme,
            row,
            config,
            candidates,
            "first purchase",
            now,
            key=lambda c, e: f"first:{row.id}:{c}",
        )


def _give(session, programme, row, config, candidates, reason, now, *, key) -> int:
    """Fixed-point awards of one rule to candidates (customer, event, time), capped."""
    if not candidates:
        return 0
    customers = np.array([c for c, _, _ in candidates], dtype=np.int64)
    points = np.full(len(candidates), config.points, dtype=np.int64)
    if config.segment_id is not None:
        points = np.where(_members(session, config.segment_id, customers), points, 0)
    counts = service.rule_window_counts(
        session, row.id, set(customers.tolist()), days=config.limit_period_days, now=now
    )
    prior = np.array([counts.get(int(c), 0) for c in customers], dtype=np.int64)
    remaining = None if config.budget_points is None else config.budget_points - row.spent_points
    allowed = cap_awards(
        customers, points, prior, limit=config.limit_count, remaining_budget=remaining
    )
    keys = [key(c, e) for c, e, _ in candidates]
    used = set(session.scalars(select(LoyaltyEntry.key).where(LoyaltyEntry.key.in_(keys))))
    awards = [
        dict(
            customer_id=int(c),
            points=int(p),
            reason=reason,
            key=k,
            earned_at=at,
            rule_id=row.id,
            event_id=getattr(e, "id", None),
            pending=False,
        )
        for (c, e, at), p, ok, k in zip(candidates, points, allowed, keys, strict=True)
        if ok and k not in used
    ]
    ledger.earn_lots(session, programme, awards, now=now)
    service.spend_budget(session, row, sum(a["points"] for a in awards))
    return len(awards)


def bonus(*, session: Session, event: StoredEvent, now: datetime) -> int:
    """Bonus rules triggered by one event: referral, review, survey or a tracked event."""
    trigger = BONUS_TRIGGERS[event.type]
    rules = _live_rules(session, trigger, now)
    if not rules:
        return 0
    programme = service.get_programme(session=session)
    given = 0
    for row, config in rules:
        for cid, points, reason in _bonus_targets(session, trigger, config, event):
            cfg = config.model_copy(update={"points": points})
            given += _give(
                session,
                programme,
                row,
                cfg,
                [(cid, event, now)],
                reason,
                now,
                key=lambda c, e: f"rule:{row.id}:{e.id}:{c}",
            )
    if given:
        service.review_tiers(session=session, customer_ids={event.customer_id}, now=now)
    return given


def _bonus_targets(session, trigger: str, config: RuleConfig, event: StoredEvent):
    """(customer, points, reason) an event gives under a rule."""
    data = event.data
    if trigger == "referral":
        pairs = [
            (
                data.get("referrer_customer_id") or event.customer_id,
                data.get("referrer_points") or config.points,
                "referral (referrer)",
            ),
            (
                data.get("referee_customer_id"),
                data.get("referee_points") or config.points,
                "referral (referee)",
            ),
        ]
        return [(int(c), int(p), r) for c, p, r in pairs if c and p and int(p) > 0]
    if event.customer_id is None:
        return []
    if trigger == "event":
        tracked = session.scalars(
            select(Event.properties).where(Event.message_id == data.get("message_id"))
        ).first()
        if not config.matches_event(data.get("name"), tracked or {}):
            return []
    return [(event.customer_id, config.points, f"{trigger}: {config.name}")]


def birthday_rows(*, session: Session, now: datetime) -> int:
    """Birthday bonuses for members whose birthday is today (UTC), once a year each."""
    rules = _live_rules(session, "birthday", now)
    if not rules:
        return 0
    today = now.date()
    births = session.execute(
        select(Customer.id, Customer.birthday)
        .join(LoyaltyAccount, LoyaltyAccount.customer_id == Customer.id)
        .where(Customer.birthday.is_not(None))
    ).all()
    todays = [c for c, b in births if (b.month, b.day) == (today.month, today.day)]
    programme = service.get_programme(session=session)
    given = 0
    for row, config in rules:
        candidates = [(c, None, now) for c in todays]
        given += _give(
            session,
            programme,
            row,
            config,
            candidates,
            "birthday",
            now,
            key=lambda c, e: f"birthday:{row.id}:{c}:{today.year}",
        )
    return given
