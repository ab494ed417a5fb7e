"""REST API of referrals: attribution and a customer's code (shop scope), the board (read),
the programme (admin)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import ADMIN, READ, READ_SESSION, SESSION, require_scope
from patron.errors import NotFound
from patron.referrals import board, service

router = APIRouter(prefix="/api/referrals", tags=["referrals"])
SHOP = [Depends(require_scope("shop"))]


def _customer_id(session: Session, external_id: str | None, customer_id: int | None) -> int:
    """The Patron id of a customer given by id or external id (404 when unknown)."""
    if customer_id is not None:
        return customers.get_customer(session=session, customer_id=customer_id).id
    found = customers.find_customer(session=session, external_id=external_id or "")
    if found is None:
        raise NotFound(f"customer {external_id!r} does not exist")
    return found.id


class AttributeIn(BaseModel):
    """A referee (the customer, by external id or customer_id) attributed to a code's owner."""

    customer_id: int | None = Field(None, ge=1)
    customer: str | None = Field(None, min_length=1, max_length=255, description="External id.")

    @model_validator(mode="after")
    def _one(self):
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give exactly one of customer_id or customer (external id)")
        return self

    code: str = Field(min_length=1, max_length=32)
    source: Literal["signup", "api"] = "api"
    device_id: str | None = Field(None, max_length=255)
    anonymous_id: str | None = Field(None, max_length=255)


class ProgrammeIn(BaseModel):
    """Programme settings to change (only those sent)."""

    min_order_cents: int | None = Field(None, ge=0)
    window_days: int | None = Field(None, ge=0, le=3650)
    reward: Literal["points", "coupon"] | None = None
    referrer_points: int | None = Field(None, ge=0)
    referee_points: int | None = Field(None, ge=0)
    referrer_campaign_id: int | None = Field(None, ge=1)
    referee_campaign_id: int | None = Field(None, ge=1)
    cap: int | None = Field(None, ge=1)
    cap_days: int | None = Field(None, ge=1)
    velocity_count: int | None = Field(None, ge=1)
    velocity_minutes: int | None = Field(None, ge=1, le=10080)


@router.post("/attribute", status_code=201, dependencies=SHOP, summary="Attribute a referee")
def attribute(body: AttributeIn, response: Response, session: Session = SESSION) -> dict:
    """Attributes the customer to the code's owner; 422 names the fraud rule, nothing written."""
    row = service.attribute(
        session=session,
        referee_customer_id=_customer_id(session, body.customer, body.customer_id),
        code=body.code,
        source=body.source,
        devices=[body.device_id] if body.device_id else [],
        anonymous_ids=[body.anonymous_id] if body.anonymous_id else [],
        now=utcnow(),
    )
    return board.referral_dict(row)


@router.get("", dependencies=READ, summary="List referrals")
def list_referrals(
    state: Literal["pending", "qualified", "rejected"] | None = None,
    limit: int = Query(50, ge=1, le=500),
    session: Session = READ_SESSION,
) -> list[dict]:
    """The latest referrals (of one state)."""
    rows = board.latest(session=session, state=state, limit=limit)
    return [board.referral_dict(r) for r in rows]


@router.get("/leaderboard", dependencies=READ, summary="Top referrers")
def leaderboard(limit: int = Query(20, ge=1, le=200), session: Session = READ_SESSION):
    """Referrers by qualified referrals."""
    return board.leaderboard(session=session, limit=limit)


@router.get("/alerts", dependencies=READ, summary="Velocity alerts")
def alerts(session: Session = READ_SESSION) -> list[dict]:
    """The latest velocity alerts."""
    return [
        {
            "referrer_customer_id": a.referrer_customer_id,
            "window_start": a.window_start.isoformat(),
            "count": a.count,
            "detail": a.detail,
        }
        for a in board.alerts(session=session)
    ]


@router.get("/programme", dependencies=READ, summary="The programme's settings")
def get_programme(session: Session = READ_SESSION) -> dict:
    """The programme's settings."""
    return vars(service.programme(session))


@router.patch("/programme", dependencies=ADMIN, summary="Change the programme")
def save_programme(body: ProgrammeIn, session: Session = SESSION) -> dict:
    """Changes the settings sent; 422 names a bad one."""
    values = body.model_dump(exclude_unset=True)
    return vars(service.save_programme(session=session, values=values, now=utcnow()))


shop_router = APIRouter(prefix="/api/shop", tags=["shop"], dependencies=SHOP)


@shop_router.get("/customers/{external_id}/referral", summary="A customer's referral code")
def customer_referral(external_id: str, session: Session = SESSION) -> dict:
    """The customer's code (made on first use), share link and referrals by state."""
    cid = _customer_id(session, external_id, None)
    code = service.code_for(session=session, customer_id=cid, now=utcnow())
    return {
        "customer_id": cid,
        "code": code,
        "link": service.share_link(code),
        "referrals": board.counts_of(session=session, customer_id=cid),
    }
