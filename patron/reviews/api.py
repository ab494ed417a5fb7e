"""REST API of reviews under /api/reviews: the shop's product reviews and JSON-LD (`read`),
writing a review (`write`), the moderation queue and decisions (`admin`)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import ADMIN, READ, SESSION, WRITE
from patron.errors import NotFound
from patron.reviews import service

router = APIRouter(prefix="/api/reviews", tags=["reviews"])


class ReviewCreate(BaseModel):
    """A review written in the shop."""

    customer: str = Field(min_length=1, max_length=255, description="the customer's external id")
    sku: str = Field(min_length=1, max_length=128)
    rating: int
    title: str = Field(default="", max_length=200)
    text: str = Field(default="", max_length=5000)


class Decision(BaseModel):
    """A moderation decision."""

    action: str = Field(description="approve or reject")
    reason: str | None = Field(default=None, max_length=500)


def _out(r) -> dict:
    return {
        "id": r.id,
        "customer_id": r.customer_id,
        "sku": r.sku,
        "rating": r.rating,
        "title": r.title,
        "text": r.body,
        "author": r.author,
        "verified": r.verified,
        "state": r.state,
        "reason": r.reason,
        "created_at": r.created_at,
    }


@router.get("/products/{sku}", summary="A product's approved reviews", dependencies=READ)
def product(
    sku: str,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0),
    session: Session = SESSION,
):
    """Approved reviews newest first, with the average rating and the count."""
    return service.product_reviews(session=session, sku=sku, limit=limit, offset=offset)


@router.get(
    "/products/{sku}/jsonld",
    summary="schema.org AggregateRating snippet",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    dependencies=READ,
)
def product_jsonld(sku: str, session: Session = SESSION):
    """A `<script type="application/ld+json">` to paste into the product page."""
    return HTMLResponse(service.jsonld(session=session, sku=sku))


@router.post("", status_code=201, summary="Write a review", dependencies=WRITE)
def create(body: ReviewCreate, session: Session = SESSION):
    """A customer's review (verified when they bought the product); it waits for moderation."""
    found = customers.find_customer(session=session, external_id=body.customer)
    if found is None:
        raise NotFound(f"no customer with external id {body.customer!r}")
    return _out(
        service.submit(
            session=session,
            customer_id=found.id,
            sku=body.sku,
            rating=body.rating,
            title=body.title,
            body=body.text,
            source="api",
            now=utcnow(),
        )
    )


@router.get("/queue", summary="The moderation queue", dependencies=ADMIN)
def moderation_queue(
    state: str = Query("pending", pattern="^(pending|approved|rejected)$"),
    session: Session = SESSION,
):
    """Reviews in a state, oldest first."""
    return {"reviews": [_out(r) for r in service.queue(session=session, state=state)]}


@router.post("/{review_id}/decision", summary="Approve or reject", dependencies=ADMIN)
def decide(review_id: int, body: Decision, session: Session = SESSION):
    """Approves or rejects a review."""
    return _out(
        service.moderate(
            session=session,
            review_id=review_id,
            action=body.action,
            reason=body.reason,
            now=utcnow(),
        )
    )
