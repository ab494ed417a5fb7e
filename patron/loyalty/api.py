"""REST API of loyalty: the shop's member API (`shop` scope) and the admin API (`admin`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import ADMIN, READ, SESSION, require_scope
from patron.errors import InvalidInput, NotFound
from patron.loyalty import redemption, reports, service

SHOP = [Depends(require_scope("shop"))]
shop = APIRouter(prefix="/api/shop/loyalty", tags=["loyalty (shop)"], dependencies=SHOP)
router = APIRouter(prefix="/api/loyalty", tags=["loyalty"])
INT_MAX = 2**31 - 1
RULE_ID = Path(ge=1, le=INT_MAX)
EXTERNAL_ID = Path(min_length=1, max_length=255)


class RedeemRequest(BaseModel):
    """A redemption: the reward and, unless sent as a header, the idempotency key."""

    reward_id: int = Field(ge=1, le=INT_MAX)
    idempotency_key: str | None = Field(default=None, max_length=200)


class RewardCreate(BaseModel):
    """A new catalogue reward."""

    name: str = Field(max_length=255)
    kind: str = Field(max_length=64)
    cost_points: int = Field(ge=1, le=10**9)
    stock: int | None = Field(default=None, ge=0, le=10**12)
    per_customer_limit: int | None = Field(default=None, ge=1, le=10**6)
    config: dict[str, Any] = Field(default_factory=dict)


class Adjustment(BaseModel):
    """A manual adjustment of a member's points."""

    points: int = Field(ge=-(10**9), le=10**9)
    reason: str = Field(max_length=200)


class Simulation(BaseModel):
    """A rule to try on the last N days."""

    rule: dict[str, Any]
    days: int = Field(default=30, ge=1, le=3650)


def _customer_id(session: Session, external_id: str) -> int:
    """The id of the customer with this external id, or 404."""
    customer = customers.find_customer(session=session, external_id=external_id)
    if customer is None:
        raise NotFound(f"no customer {external_id!r}")
    return customer.id


@shop.get("/members/{external_id}")
def member_summary(external_id: str = EXTERNAL_ID, session: Session = SESSION) -> dict:
    """Balance, pending points, tier, progress, expiring points and affordable rewards."""
    cid = _customer_id(session, external_id)
    return reports.summary(session=session, customer_id=cid, now=utcnow())


@shop.get("/rewards")
def shop_rewards(session: Session = SESSION) -> list[dict]:
    """The active rewards catalogue."""
    return [_reward(r) for r in redemption.list_rewards(session=session, active_only=True)]


@shop.post("/members/{external_id}/redeem")
def redeem(
    body: RedeemRequest,
    external_id: str = EXTERNAL_ID,
    session: Session = SESSION,
    idempotency_key: str | None = Header(default=None),
) -> dict:
    """Redeem a reward once per idempotency key; a refusal is a 409 naming the rule."""
    key = idempotency_key or body.idempotency_key
    if not key:
        raise InvalidInput("send an Idempotency-Key header or idempotency_key")
    cid = _customer_id(session, external_id)
    return redemption.redeem(
        session=session, customer_id=cid, reward_id=body.reward_id, key=key, now=utcnow()
    )


def _reward(r) -> dict:
    """A reward as JSON."""
    return {
        "id": r.id,
        "name": r.name,
        "kind": r.kind,
        "cost_points": r.cost_points,
        "stock": r.stock,
        "per_customer_limit": r.per_customer_limit,
        "active": r.active,
    }


@router.get("/programme", dependencies=READ)
def get_programme(session: Session = SESSION) -> dict:
    """The programme's settings."""
    return service.get_programme(session=session).model_dump(mode="json")


@router.put("/programme", dependencies=ADMIN)
def put_programme(body: dict[str, Any], session: Session = SESSION) -> dict:
    """Replace the programme's settings."""
    saved = service.save_programme(session=session, config=body, now=utcnow())
    return saved.model_dump(mode="json")


@router.post("/rules", dependencies=ADMIN, status_code=201)
def create_rule(body: dict[str, Any], session: Session = SESSION) -> dict:
    """Add an earn rule (inactive until turned on)."""
    row = service.save_rule(session=session, config=body, now=utcnow())
    return {"id": row.id, "active": row.active, "config": row.config}


@router.post("/rules/{rule_id}/active", dependencies=ADMIN)
def activate_rule(rule_id: int = RULE_ID, active: bool = True, session: Session = SESSION) -> dict:
    """Turn an earn rule on or off."""
    row = service.get_rule(session=session, rule_id=rule_id)
    row.active = active
    return {"id": row.id, "active": row.active}


@router.post("/simulate", dependencies=READ)
def simulate(body: Simulation, session: Session = SESSION) -> dict:
    """What a rule would have given over the last N days (nothing written)."""
    try:
        return reports.simulate(session=session, config=body.rule, days=body.days, now=utcnow())
    except ValueError as exc:
        raise InvalidInput(str(exc).splitlines()[0]) from None


@router.post("/rewards", dependencies=ADMIN, status_code=201)
def create_reward(body: RewardCreate, session: Session = SESSION) -> dict:
    """Add a reward to the catalogue."""
    row = redemption.create_reward(session=session, now=utcnow(), **body.model_dump())
    return _reward(row)


@router.post("/members/{external_id}/adjust", dependencies=ADMIN)
def adjust(body: Adjustment, external_id: str = EXTERNAL_ID, session: Session = SESSION) -> dict:
    """Add or remove points by hand, with a reason."""
    cid = _customer_id(session, external_id)
    service.adjust(
        session=session, customer_id=cid, points=body.points, reason=body.reason, now=utcnow()
    )
    return reports.summary(session=session, customer_id=cid, now=utcnow())


@router.get("/liability", dependencies=READ)
def liability(session: Session = SESSION) -> dict:
    """Outstanding points, their value and expiry by month; members per tier."""
    report = reports.liability(session=session, now=utcnow())
    report["tiers"] = reports.tier_distribution(session=session)
    return report
