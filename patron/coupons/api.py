"""REST API of coupons: campaigns and batches (read/write scopes), the shop's calls (shop)."""

from __future__ import annotations

import csv
import io
from datetime import UTC

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from patron.coupons import offers, service
from patron.coupons.schemas import (
    BatchIn,
    CampaignIn,
    CampaignOut,
    CustomerRef,
    DecisionOut,
    IssueIn,
    OfferIn,
    RedeemIn,
    RedemptionOut,
    ValidateIn,
)
from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE, require_scope
from patron.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/coupons", tags=["coupons"])
SHOP = [Depends(require_scope("shop"))]


def customer_id_of(session: Session, ref: CustomerRef) -> int:
    """The Patron id of a customer given by id or external id (404 when unknown)."""
    if ref.customer_id is not None:
        return customers.get_customer(session=session, customer_id=ref.customer_id).id
    found = customers.find_customer(session=session, external_id=ref.customer or "")
    if found is None:
        raise NotFound(f"customer {ref.customer!r} does not exist")
    return found.id


def _aware(value):
    """A datetime as UTC; a naive one is refused."""
    if value is not None and value.tzinfo is None:
        raise InvalidInput("dates need a time zone (e.g. 2026-12-01T00:00:00Z)")
    return value.astimezone(UTC) if value is not None else None


@router.post("/validate", response_model=DecisionOut, dependencies=SHOP, summary="Check a cart")
def validate(body: ValidateIn, session: Session = READ_SESSION):
    """Whether the code applies to the customer's cart, its discount, or the refusing rule."""
    decision = service.validate(
        session=session,
        code=body.code,
        customer_id=customer_id_of(session, body),
        cart=body.cart.to_rules(),
        now=utcnow(),
    )
    return service.decision_dict(decision)


@router.post("/redeem", response_model=RedemptionOut, dependencies=SHOP, summary="Redeem a code")
def redeem(body: RedeemIn, response: Response, session: Session = SESSION):
    """Counts the code on an order once; 422 names the refusing rule and writes nothing."""
    redemption, created = service.redeem(
        session=session,
        code=body.code,
        customer_id=customer_id_of(session, body),
        order_ref=body.order_ref,
        cart=body.cart.to_rules(),
        discount_cents=body.discount_cents,
        now=utcnow(),
    )
    response.status_code = 201 if created else 200
    return RedemptionOut.model_validate(redemption).model_copy(update={"created": created})


@router.post("/issue", dependencies=WRITE, summary="Issue a personal code (idempotent per key)")
def issue(body: IssueIn, session: Session = SESSION) -> dict:
    """The customer's personal code of a campaign; the same key gives the same code."""
    code = service.issue_code(
        session=session,
        customer_id=customer_id_of(session, body),
        campaign_id=body.campaign_id,
        key=f"api:{body.key}",
        now=utcnow(),
    )
    return {"code": code, "campaign_id": body.campaign_id}


@router.post("/campaigns", status_code=201, response_model=CampaignOut, dependencies=WRITE)
def create_campaign(body: CampaignIn, session: Session = SESSION):
    """Creates a campaign (a shared one with its code)."""
    fields = body.model_dump()
    fields["starts_at"], fields["ends_at"] = _aware(body.starts_at), _aware(body.ends_at)
    return service.create_campaign(session=session, now=utcnow(), **fields)


@router.get("/campaigns", response_model=list[CampaignOut], dependencies=READ)
def list_campaigns(session: Session = READ_SESSION):
    """Every campaign, newest first."""
    return [row["campaign"] for row in service.list_campaigns(session=session)]


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, dependencies=READ)
def get_campaign(campaign_id: int, session: Session = READ_SESSION):
    """One campaign."""
    return service.get_campaign(session=session, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/batches", status_code=201, dependencies=WRITE)
def add_batch(campaign_id: int, body: BatchIn, session: Session = SESSION) -> dict:
    """Adds a batch of unique codes, generated set-based."""
    made = service.generate_batch(
        session=session, campaign_id=campaign_id, now=utcnow(), **body.model_dump()
    )
    return {"campaign_id": campaign_id, "created": made}


def codes_csv(session: Session, campaign_id: int) -> str:
    """Every code of a campaign as CSV: code, customer_id, redeemed_count."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "customer_id", "redeemed_count"])
    writer.writerows(service.export_codes(session=session, campaign_id=campaign_id))
    return out.getvalue()


@router.get("/campaigns/{campaign_id}/codes.csv", dependencies=READ, summary="Export codes")
def export_codes(campaign_id: int, session: Session = READ_SESSION):
    """The campaign's codes as CSV."""
    return Response(
        codes_csv(session, campaign_id),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="coupons-{campaign_id}.csv"'},
    )


@router.post("/offers", status_code=201, dependencies=WRITE, summary="Create an offer")
def create_offer(body: OfferIn, session: Session = SESSION) -> dict:
    """Creates an exclusive offer or early access for a segment or tier."""
    fields = body.model_dump()
    fields["starts_at"], fields["ends_at"] = _aware(body.starts_at), _aware(body.ends_at)
    return offers.offer_dict(offers.create_offer(session=session, now=utcnow(), **fields))


@router.get("/offers", dependencies=READ, summary="List offers")
def list_offers(session: Session = READ_SESSION) -> list[dict]:
    """Every offer, newest first."""
    return [offers.offer_dict(o) for o in offers.list_offers(session=session)]


shop_router = APIRouter(prefix="/api/shop", tags=["shop"], dependencies=SHOP)


@shop_router.get("/customers/{external_id}/offers", summary="A customer's offers now")
def customer_offers(external_id: str, session: Session = READ_SESSION) -> list[dict]:
    """The exclusive offers the customer sees now."""
    cid = customer_id_of(session, CustomerRef(customer=external_id))
    return [
        offers.offer_dict(o)
        for o in offers.offers_for(session=session, customer_id=cid, now=utcnow())
    ]
