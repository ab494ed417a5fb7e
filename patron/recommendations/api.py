"""REST API of recommendations: serving (`read`), product flags (`write`), training (`admin`)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import ADMIN, READ, READ_SESSION, SESSION, WRITE
from patron.errors import NotFound
from patron.recommendations import service
from patron.recommendations.schemas import (
    EvaluationRead,
    FlagsRead,
    FlagsUpdate,
    RecommendationList,
    ReportRowRead,
    VersionRead,
)

router = APIRouter(prefix="/api", tags=["recommendations"])


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=RecommendationList,
    summary="A customer's recommendations",
    dependencies=READ,
)
def customer_recommendations(
    customer_id: int,
    kind: str = Query("personal", description="personal, cross_sell, up_sell, down_sell, popular"),
    n: int = Query(10, description="How many, 1 to 50"),
    session: Session = READ_SESSION,
):
    """Returns the customer's top n of a kind; popular items flagged `fallback` without history."""
    return service.for_customer(session=session, customer_id=customer_id, kind=kind, n=n)


@router.get(
    "/products/{sku}/related",
    response_model=RecommendationList,
    summary="Products related to a product",
    dependencies=READ,
)
def related_products(
    sku: str,
    kind: str = Query("cross_sell", description="cross_sell, up_sell or down_sell"),
    n: int = Query(10, description="How many, 1 to 50"),
    session: Session = READ_SESSION,
):
    """Returns products bought with this one (or pricier / cheaper alternatives)."""
    return service.related(session=session, sku=sku, kind=kind, n=n)


@router.put(
    "/products/{sku}/recommendation-flags",
    response_model=FlagsRead,
    summary="Set a product's recommendation flags",
    dependencies=WRITE,
)
def put_flags(sku: str, body: FlagsUpdate, session: Session = SESSION):
    """Marks a product inactive (never recommended) or replenishable (recommended again)."""
    return service.set_flags(
        session=session, sku=sku, now=utcnow(), active=body.active, replenishable=body.replenishable
    )


@router.get(
    "/recommendations/versions",
    response_model=list[VersionRead],
    summary="Training runs",
    dependencies=READ,
)
def list_versions(session: Session = READ_SESSION):
    """Returns the latest training runs (a failed one says why)."""
    return service.versions(session=session)


@router.post(
    "/recommendations/train", status_code=202, summary="Queue a training", dependencies=ADMIN
)
def queue_training(session: Session = SESSION):
    """Queues a training job (one at a time)."""
    service.enqueue_training(session=session, now=utcnow())
    return {"queued": True}


@router.get(
    "/recommendations/evaluation",
    response_model=EvaluationRead,
    summary="The latest offline evaluation",
    dependencies=READ,
)
def latest_evaluation(session: Session = READ_SESSION):
    """Returns the latest evaluation table (404 before the first)."""
    found = service.latest_evaluation(session=session)
    if found is None:
        raise NotFound("no evaluation yet: run `patron recommendations evaluate`")
    return found


@router.get(
    "/recommendations/report",
    response_model=list[ReportRowRead],
    summary="Recommendation click-through and attributed revenue",
    dependencies=READ,
)
def click_report(session: Session = READ_SESSION):
    """Returns, per kind, messages shown, clicks, click-through, attributed orders and revenue."""
    return service.report(session=session)
