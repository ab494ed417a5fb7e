"""Use cases of reviews: requests after purchase, writing, moderation, the shop's product view.

`order.completed` queues one request per customer and product, ever (a unique row), due
PATRON_REVIEWS_REQUEST_DELAY_DAYS after the order; the `reviews.send_due` schedule mails due
requests through messages (one message per customer lists their products). A review is one
per customer and product (an edit returns it to moderation); the first approval publishes
`review.approved` (loyalty's points), never again for the same review.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.customers.read import Order, OrderLine, Product
from patron.errors import InvalidInput, NotFound
from patron.events import service as events
from patron.messages import service as messages
from patron.reviews import links, rules
from patron.reviews.events import ReviewApproved, ReviewRequested, ReviewSubmitted
from patron.reviews.tables import Review, ReviewRequest

DELAY_SETTING = "PATRON_REVIEWS_REQUEST_DELAY_DAYS"
SOURCE = "reviews"
TEMPLATE = "Review request"
SEND_BATCH = 500
BODY = (
    "<p>Hi {{ customer.first_name or 'there' }},</p><p>How do you like what you bought? "
    "A review takes a minute and helps other customers.</p><ul>"
    '{% for r in review_requests %}<li><a href="{{ r.url }}">Review {{ r.name }}</a></li>'
    "{% endfor %}</ul>"
)


def delay_days() -> int:
    """Days after an order before its review request (the setting)."""
    value = os.environ.get(DELAY_SETTING, "7").strip()
    if not value.isdigit():
        raise InvalidInput(f"{DELAY_SETTING} must be a whole number of days, got {value!r}")
    return int(value)


# Requests -------------------------------------------------------------------------------------


def on_orders(*, session: Session, events: list, now: datetime) -> None:
    """Queue a request per new (customer, product) of completed orders; a cancelled order's
    requests not mailed yet are dropped (consumer)."""
    wanted: dict[tuple[int, str], tuple[int, datetime]] = {}
    delay = delay_days()
    for e in events:
        data = e.data
        if e.type == "order.cancelled":
            _drop_queued(session, data.get("order_id"), wanted)
            continue
        if e.customer_id is None or data.get("replaced") or data.get("status") == "cancelled":
            continue
        placed = datetime.fromisoformat(data["placed_at"]) if data.get("placed_at") else now
        for line in data.get("lines") or []:
            sku = line.get("sku")
            if sku and (e.customer_id, sku) not in wanted:
                wanted[(e.customer_id, sku)] = (data["order_id"], rules.due_at(placed, now, delay))
    if not wanted:
        return
    customer_ids = {c for c, _ in wanted}
    existing = set(
        session.execute(
            select(ReviewRequest.customer_id, ReviewRequest.sku).where(
                ReviewRequest.customer_id.in_(customer_ids)
            )
        ).tuples()
    )
    session.add_all(
        ReviewRequest(
            customer_id=c, sku=sku, order_id=order_id, state="queued", due_at=due, created_at=now
        )
        for (c, sku), (order_id, due) in wanted.items()
        if (c, sku) not in existing
    )
    session.flush()


def _drop_queued(session: Session, order_id, wanted: dict) -> None:
    """Forget the requests of a cancelled order that were not mailed yet."""
    for pair in [p for p, (oid, _due) in wanted.items() if oid == order_id]:
        del wanted[pair]
    session.flush()
    session.execute(
        delete(ReviewRequest).where(
            ReviewRequest.order_id == order_id, ReviewRequest.state == "queued"
        )
    )


def _template(session: Session, now: datetime) -> int:
    """The review request template, created through messages on first use."""
    for t in messages.list_templates(session=session):
        if t.name == TEMPLATE:
            return t.id
    data = messages.TemplateInput(
        name=TEMPLATE, variants=[messages.VariantInput(subject="How did we do?", body=BODY)]
    )
    return messages.create_template(session=session, data=data, now=now).id


def send_due(*, session: Session, now: datetime, payload: dict | None = None) -> str:
    """Mail due requests: one message per customer, each request marked requested (job)."""
    due = list(
        session.scalars(
            select(ReviewRequest)
            .where(ReviewRequest.state == "queued", ReviewRequest.due_at <= now)
            .order_by(ReviewRequest.id)
            .limit(SEND_BATCH)
        )
    )
    if not due:
        return "nothing due"
    template_id = _template(session, now)
    by_customer: dict[int, list[ReviewRequest]] = {}
    for r in due:
        by_customer.setdefault(r.customer_id, []).append(r)
    for customer_id, rows in by_customer.items():
        row, _ = messages.queue_message(
            session=session,
            customer_id=customer_id,
            template_id=template_id,
            kind="marketing",
            source=SOURCE,
            source_id=template_id,
            occurrence=f"req:{rows[0].id}",
            now=now,
        )
        for r in rows:
            r.state, r.requested_at, r.outbox_id = "requested", now, row.id
    session.flush()
    events.append(
        session,
        [ReviewRequested(r.customer_id, sku=r.sku, order_id=r.order_id) for r in due],
        now=now,
    )
    messages.wake_lane(session=session, kind="marketing", now=now)
    return f"requested {len(due)}"


def open_requests(*, session: Session, customer_ids) -> dict[int, list[tuple[str, str]]]:
    """(sku, product name) of each customer's requests awaiting a review."""
    ids = list(customer_ids)
    if not ids:
        return {}
    query = (
        select(ReviewRequest.customer_id, ReviewRequest.sku, Product.name)
        .outerjoin(Product, Product.sku == ReviewRequest.sku)
        .where(ReviewRequest.customer_id.in_(ids), ReviewRequest.state == "requested")
        .order_by(ReviewRequest.id)
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for customer_id, sku, name in session.execute(query):
        out.setdefault(customer_id, []).append((sku, name or sku))
    return out


def review_links(
    *, session: Session, customer_id: int, secret: str, public_url: str, now: datetime
) -> list[dict]:
    """Signed links to review each product the customer was asked about (a promoter's page)."""
    found = open_requests(session=session, customer_ids=[customer_id]).get(customer_id, [])
    base = public_url.rstrip("/")
    return [
        {
            "sku": sku,
            "name": name,
            "url": f"{base}/r/{links.token(secret, customer_id=customer_id, sku=sku, now=now)}",
        }
        for sku, name in found
    ]


def requests(*, session: Session, limit: int = 100) -> list[ReviewRequest]:
    """The newest requests in any state."""
    return list(
        session.scalars(select(ReviewRequest).order_by(ReviewRequest.id.desc()).limit(limit))
    )


# Writing and moderation -----------------------------------------------------------------------


def _verified(session: Session, customer_id: int, sku: str) -> bool:
    """Whether the customer has a counted order with this product."""
    query = (
        select(func.count())
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, OrderLine.sku == sku, Order.status != "cancelled")
    )
    return bool(session.scalar(query))


def submit(
    *,
    session: Session,
    customer_id: int,
    sku: str,
    rating,
    title: str | None,
    body: str | None,
    source: str,
    now: datetime,
) -> Review:
    """Write (or edit) a customer's review of a product; it waits for moderation."""
    try:
        rating, title, body = rules.check_review(rating, title, body)
    except rules.ReviewError as exc:
        raise InvalidInput(str(exc))
    customer = customers.get_customer(session=session, customer_id=customer_id)
    if not 0 < len(sku or "") <= 128:
        raise InvalidInput("sku: 1 to 128 characters")
    review = session.scalar(
        select(Review).where(Review.customer_id == customer_id, Review.sku == sku)
    )
    request = session.scalar(
        select(ReviewRequest).where(
            ReviewRequest.customer_id == customer_id, ReviewRequest.sku == sku
        )
    )
    verified = _verified(session, customer_id, sku)
    if review is None:
        review = Review(customer_id=customer_id, sku=sku, source=source, created_at=now)
        session.add(review)
    review.rating, review.title, review.body = rating, title, body
    review.author = rules.author_name(customer.first_name, customer.last_name)
    review.verified = verified
    review.request_id = request.id if request else None
    review.state, review.reason, review.updated_at = "pending", None, now
    if request is not None:
        request.state = "reviewed"
    session.flush()
    submitted = ReviewSubmitted(
        customer_id, review_id=review.id, sku=sku, rating=rating, verified=review.verified
    )
    events.append(session, [submitted], now=now)
    return review


def get_review(*, session: Session, review_id: int, lock: bool = False) -> Review:
    """Gets a review by id."""
    review = session.get(Review, review_id, with_for_update=lock)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    return review


def moderate(
    *, session: Session, review_id: int, action: str, now: datetime, reason: str | None = None
) -> Review:
    """Approve or reject a review; its first approval publishes review.approved."""
    if action not in ("approve", "reject"):
        raise InvalidInput("action must be approve or reject")
    review = get_review(session=session, review_id=review_id, lock=True)
    review.state = "approved" if action == "approve" else "rejected"
    review.reason = (reason or "").strip()[:500] or None
    review.moderated_at = now
    if action == "approve" and review.approved_at is None:
        review.approved_at = now
        approved = ReviewApproved(
            review.customer_id, review_id=review.id, sku=review.sku, rating=review.rating
        )
        events.append(session, [approved], now=now)
    session.flush()
    return review


def queue(*, session: Session, state: str = "pending", limit: int = 100) -> list[Review]:
    """Reviews in a moderation state, oldest first."""
    query = select(Review).where(Review.state == state).order_by(Review.id).limit(limit)
    return list(session.scalars(query))


def of_customer(*, session: Session, customer_id: int, limit: int = 10) -> list[Review]:
    """A customer's newest reviews in any state."""
    query = select(Review).where(Review.customer_id == customer_id).order_by(Review.id.desc())
    return list(session.scalars(query.limit(limit)))


def product_reviews(*, session: Session, sku: str, limit: int = 20, offset: int = 0) -> dict:
    """A product's approved reviews (newest first) with their average and count."""
    name = session.scalar(select(Product.name).where(Product.sku == sku))
    approved = (Review.sku == sku, Review.state == "approved")
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Review.rating), 0)).where(*approved)
    ).one()
    rows = session.scalars(
        select(Review)
        .where(*approved)
        .order_by(Review.id.desc())
        .limit(max(1, min(limit, 100)))
        .offset(max(offset, 0))
    )
    return {
        "sku": sku,
        "name": name or sku,
        "count": int(count),
        "average": rules.average(int(total), int(count)),
        "reviews": [
            {
                "id": r.id,
                "rating": r.rating,
                "title": r.title,
                "text": r.body,
                "author": r.author,
                "verified": r.verified,
                "created_at": r.created_at,
            }
            for r in rows
        ],
    }


def jsonld(*, session: Session, sku: str) -> str:
    """The product's schema.org AggregateRating snippet."""
    found = product_reviews(session=session, sku=sku, limit=1)
    return rules.aggregate_jsonld(
        sku=sku, name=found["name"], count=found["count"], average_rating=found["average"]
    )
