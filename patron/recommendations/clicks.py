"""Recommendation clicks and their report: click-through and attributed revenue.

Messages turns a human click into a tracked "Email Clicked" event whose `url` is the
original link; recommended links carry `patron_rec=<kind>` (rules.product_url). The consumer
below keeps those as RecClick rows. Revenue is attributed to a click when the same customer
orders the clicked product within ATTRIBUTION_DAYS after it (each order line once per kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers import read as customers
from patron.recommendations import rules
from patron.recommendations.tables import RecClick, RecImpression

CONSUMER = "recommendations.clicks"
CLICKED = "Email Clicked"
ATTRIBUTION_DAYS = 7


def handle(*, session: Session, events, now: datetime) -> None:
    """Store the recommendation clicks among tracked events (idempotent per event)."""
    ids = [e.data.get("message_id") for e in events if e.data.get("name") == CLICKED]
    if not ids:
        return
    rows = session.execute(
        select(
            customers.Event.message_id,
            customers.Event.customer_id,
            customers.Event.properties,
            customers.Event.occurred_at,
        ).where(customers.Event.message_id.in_(ids))
    ).all()
    tagged = {}
    for message_id, customer_id, props, at in rows:
        found = rules.tagged(str((props or {}).get("url") or ""))
        if found and customer_id is not None:
            tagged[message_id] = (customer_id, *found, at)
    if not tagged:
        return
    skus = {t[2] for t in tagged.values()}
    product_ids = dict(
        session.execute(
            select(customers.Product.sku, customers.Product.id).where(
                customers.Product.sku.in_(skus)
            )
        ).all()
    )
    done = set(session.scalars(select(RecClick.event_id).where(RecClick.event_id.in_(tagged))))
    for message_id, (customer_id, kind, sku, at) in tagged.items():
        if message_id in done or sku not in product_ids:
            continue
        session.add(
            RecClick(
                event_id=message_id,
                customer_id=customer_id,
                product_id=product_ids[sku],
                kind=kind,
                clicked_at=at,
            )
        )


@dataclass(frozen=True)
class ReportRow:
    """One kind's clicks, impressions, click-through, attributed orders and revenue."""

    kind: str
    shown: int
    clicks: int
    click_through: float | None
    orders: int
    revenue_cents: int


def report(*, session: Session) -> list[ReportRow]:
    """Per kind: messages that showed it, clicks, click-through, attributed orders, revenue."""
    shown = dict(
        session.execute(select(RecImpression.kind, func.count()).group_by(RecImpression.kind)).all()
    )
    clicks = dict(
        session.execute(select(RecClick.kind, func.count()).group_by(RecClick.kind)).all()
    )
    o, line = customers.Order, customers.OrderLine
    gap = customers.epoch_days(o.placed_at) - customers.epoch_days(RecClick.clicked_at)
    pairs = (
        select(
            RecClick.kind,
            line.id.label("line_id"),
            o.id.label("order_id"),
            line.total_cents.label("cents"),
        )
        .join(o, o.customer_id == RecClick.customer_id)
        .join(line, (line.order_id == o.id) & (line.product_id == RecClick.product_id))
        .where(
            o.status.not_in(customers.COUNTED_EXCLUDED),
            o.placed_at >= RecClick.clicked_at,
            gap <= ATTRIBUTION_DAYS,
        )
        .distinct()
        .subquery()
    )
    money = {
        k: (n, int(c or 0))
        for k, n, c in session.execute(
            select(
                pairs.c.kind, func.count(func.distinct(pairs.c.order_id)), func.sum(pairs.c.cents)
            ).group_by(pairs.c.kind)
        ).all()
    }
    out = []
    for kind in rules.KINDS:
        s, c = int(shown.get(kind, 0)), int(clicks.get(kind, 0))
        n, cents = money.get(kind, (0, 0))
        if s or c or n:
            out.append(ReportRow(kind, s, c, c / s if s else None, int(n), cents))
    return out
