"""REST API of advocates (`read` scope): ambassadors and a customer's advocacy score; and the
community webhooks /hooks/community (generic, signed) and /hooks/community/discourse."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from patron.advocates import inbound, service
from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION

router = APIRouter(tags=["advocates"])
_JSON = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/api/advocates/ambassadors", dependencies=READ)
def ambassadors(
    limit: int = Query(100, ge=1, le=1000),
    everyone: bool = Query(False, description="Everyone with a credit, not only ambassadors."),
    session: Session = READ_SESSION,
) -> list[dict]:
    """Ambassadors (score at or over the threshold), best first, with parts and perks."""
    return service.ambassadors(session=session, limit=limit, everyone=everyone)


@router.get("/api/advocates/customers/{customer_id}", dependencies=READ)
def score(customer_id: int, session: Session = READ_SESSION) -> dict:
    """A customer's advocacy score and its parts."""
    customers.get_customer(session=session, customer_id=customer_id)
    return service.score_of(session=session, customer_id=customer_id)


@router.post(
    "/hooks/community", summary="Community activity (generic, signed)", openapi_extra=_JSON
)
async def community_hook(request: Request, session: Session = SESSION) -> dict:
    """Activities in the generic JSON format, signed Standard Webhooks style."""
    body = await request.body()
    return inbound.receive_generic(
        session=session, headers=request.headers, body=body, now=utcnow()
    )


@router.post(
    "/hooks/community/discourse", summary="Discourse webhook (signed)", openapi_extra=_JSON
)
async def discourse_hook(request: Request, session: Session = SESSION) -> dict:
    """A Discourse webhook: post created, like received (post_liked), user events."""
    body = await request.body()
    return inbound.receive_discourse(
        session=session, headers=request.headers, body=body, now=utcnow()
    )
