"""Demo data of reviews: a few product reviews by buyers, most approved, some waiting.

Deterministic and small: the n-th buyer (recent repeat buyers first) reviews the first product
of their first order, with a rating and text from a fixed list; the first six are approved,
one is rejected and the rest wait in the moderation queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers.read import CustomerStats, Order, OrderLine
from patron.reviews import service
from patron.reviews.tables import Review

REVIEWS = (
    (5, "Exactly as described", "Great quality, arrived in two days. Would buy again."),
    (5, "Love it", "I bought a second one as a gift."),
    (4, "Very good", "Nice finish; the size runs a little small."),
    (5, "Perfect", "Does what it says, well packed."),
    (4, "Good value", "Solid for the price."),
    (5, "Five stars", "My favourite purchase this year."),
    (1, "Click here for cheap deals", "Visit my site for discounts!!!"),
    (3, "It is fine", "Works, but the colour is darker than in the photos."),
    (2, "Disappointed", "Broke after a month of use."),
    (4, "Nice", "Comfortable and looks good."),
)
APPROVED = 6
REJECTED = 6  # the spam one


def _first_lines(session: Session, limit: int) -> list[tuple[int, str]]:
    """(customer, SKU of the first line of their first order), recent repeat buyers first."""
    first_order = (
        select(Order.customer_id, func.min(Order.id).label("order_id"))
        .group_by(Order.customer_id)
        .subquery()
    )
    first_line = (
        select(OrderLine.order_id, func.min(OrderLine.id).label("line_id"))
        .group_by(OrderLine.order_id)
        .subquery()
    )
    query = (
        select(first_order.c.customer_id, OrderLine.sku)
        .join(first_line, first_line.c.order_id == first_order.c.order_id)
        .join(OrderLine, OrderLine.id == first_line.c.line_id)
        .join(CustomerStats, CustomerStats.customer_id == first_order.c.customer_id)
        .order_by(
            (CustomerStats.order_count >= 2).desc(),
            CustomerStats.last_order_at.desc().nulls_last(),
            first_order.c.customer_id,
        )
        .limit(limit)
    )
    return [(cid, sku) for cid, sku in session.execute(query).all()]


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the demo reviews and their moderation; False if seeded already."""
    if session.scalar(select(func.count()).select_from(Review)):
        return False
    for n, (customer_id, sku) in enumerate(_first_lines(session, len(REVIEWS))):
        rating, title, body = REVIEWS[n]
        at = now - timedelta(days=50 - 4 * n)
        review = service.submit(
            session=session,
            customer_id=customer_id,
            sku=sku,
            rating=rating,
            title=title,
            body=body,
            source="email",
            now=at,
        )
        if n < APPROVED:
            service.moderate(
                session=session, review_id=review.id, action="approve", now=at + timedelta(hours=5)
            )
        elif n == REJECTED:
            service.moderate(
                session=session,
                review_id=review.id,
                action="reject",
                reason="spam link",
                now=at + timedelta(hours=2),
            )
    session.flush()
    return True
