"""Helpers of loyalty tests: a programme, orders through customers, the consumer's pump."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from patron.customers import service as customers
from patron.db import transaction
from patron.events import service as events
from patron.loyalty import ledger, service
from patron.loyalty.manifest import manifest
from patron.loyalty.tables import LoyaltyAccount, LoyaltyEntry, LoyaltyLot
from tests import factories

CONSUMER = manifest.consumers[0]
PROGRAMME = {
    "points_per_unit": 1,
    "return_window_days": 14,
    "expiry": "rolling",
    "expiry_months": 12,
    "tiers": [
        {"name": "Member", "threshold": 0},
        {"name": "Gold", "threshold": 500, "multiplier": 2, "benefits": {"free_shipping": True}},
    ],
}


def setup(db, now: datetime, programme: dict | None = None, rules=()) -> None:
    """Save the programme and activate the given earn rules."""
    with transaction(db.sessions) as s:
        service.save_programme(session=s, config=programme or PROGRAMME, now=now)
        for rule in rules:
            service.save_rule(session=s, config=rule, now=now, active=True)


def customer(db, external_id: str, **profile) -> int:
    """A customer's id (created if missing)."""
    with transaction(db.sessions) as s:
        return factories.customer(s, external_id, **profile).id


def order(db, external_id: str, customer_id: str, total: int, days: float = 0, **kw) -> int:
    """Record an order through customers (which appends order.completed)."""
    with transaction(db.sessions) as s:
        return factories.order(s, external_id, customer_id, total=total, days=days, **kw).id


def refund(db, external_id: str, amount: int, now: datetime) -> None:
    """Refund part of an order through customers."""
    with transaction(db.sessions) as s:
        customers.refund_order(session=s, external_id=external_id, amount_cents=amount, now=now)


def cancel(db, external_id: str, now: datetime) -> None:
    """Cancel an order through customers."""
    with transaction(db.sessions) as s:
        customers.cancel_order(session=s, external_id=external_id, now=now)


def pump(db, now: datetime) -> None:
    """Run the earning consumer until it has caught up."""
    events.pump(db.sessions, {CONSUMER.name: CONSUMER}, now=now)


def state(db, customer_id: int) -> dict:
    """Account sums beside ledger sums and lots."""
    with transaction(db.sessions) as s:
        account = s.get(LoyaltyAccount, customer_id)
        points, pending = ledger.ledger_sums(s, customer_id)
        remaining = s.scalar(
            select(func.coalesce(func.sum(LoyaltyLot.remaining), 0)).where(
                LoyaltyLot.customer_id == customer_id
            )
        )
        kinds = s.scalars(
            select(LoyaltyEntry.kind)
            .where(LoyaltyEntry.customer_id == customer_id)
            .order_by(LoyaltyEntry.id)
        ).all()
        return {
            "balance": account.balance if account else 0,
            "pending": account.pending if account else 0,
            "tier": account.tier if account else None,
            "ledger": (points, pending),
            "lots_remaining": int(remaining),
            "kinds": kinds,
        }
